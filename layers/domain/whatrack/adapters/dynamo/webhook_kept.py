"""Changes kept for a number with no connection yet (LogTable base items, read with ConsistentRead).

One item per kept change, ``UNMATCHED#<phone number id>`` / ``KEPT#<log id>``, carrying what a replay
needs. A base-table partition and not an index: a connection created a moment after ingest wrote
the item must see it (an index is eventually consistent, and a change missed there stayed unmatched
for ever). Written after its log entry becomes ``unmatched``, deleted once the change is routed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo.cursors import decode_cursor, encode_cursor
from whatrack.adapters.dynamo.tables import LogTableItem, kept_key, kept_partition
from whatrack.adapters.dynamo.writes import storage
from whatrack.domain.clock import iso, parse_iso
from whatrack.domain.log import LogStatus, WebhookLogEntry
from whatrack.domain.paging import Page


class KeptChangeItem(LogTableItem):
    kind = UnicodeAttribute(default="kept")
    id = UnicodeAttribute()
    at = UnicodeAttribute()
    archive_key = UnicodeAttribute()
    entry_index = NumberAttribute()
    change_index = NumberAttribute()
    field = UnicodeAttribute(null=True)
    event = UnicodeAttribute(null=True)
    phone_number_id = UnicodeAttribute()
    waba_id = UnicodeAttribute(null=True)
    correlation_id = UnicodeAttribute(null=True)
    event_at = UTCDateTimeAttribute(null=True)


def keep(entry: WebhookLogEntry) -> None:
    """Put (or overwrite: idempotent) the kept item of an ``unmatched`` entry of a number."""
    assert entry.phone_number_id is not None
    with storage("kept change write"):
        KeptChangeItem(
            *kept_key(entry.phone_number_id, entry.id),
            id=entry.id,
            at=iso(entry.at) or "",
            archive_key=entry.archive_key,
            entry_index=entry.entry_index,
            change_index=entry.change_index,
            field=entry.field,
            event=entry.event,
            phone_number_id=entry.phone_number_id,
            waba_id=entry.waba_id,
            correlation_id=entry.correlation_id,
            event_at=entry.event_at,
        ).save()


def kept_page(phone_number_id: str, *, limit: int, cursor: str | None) -> Page[WebhookLogEntry]:
    """One page of the number's kept changes (by log id), read with ConsistentRead."""
    partition = kept_partition(phone_number_id)
    with storage("kept changes query"):
        results = KeptChangeItem.query(
            partition,
            consistent_read=True,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, "pk", partition),
        )
        items = [_to_entry(item) for item in results]
        return Page(items, encode_cursor(results.last_evaluated_key))


def release(phone_number_id: str, log_id: str) -> None:
    with storage("kept change delete"):
        KeptChangeItem(*kept_key(phone_number_id, log_id)).delete()


def _to_entry(item: KeptChangeItem) -> WebhookLogEntry:
    return WebhookLogEntry(
        id=item.id,
        at=parse_iso(item.at) or datetime.now(UTC),
        status=LogStatus.UNMATCHED,
        archive_key=item.archive_key,
        entry_index=int(item.entry_index),
        change_index=int(item.change_index),
        field=item.field,
        event=item.event,
        phone_number_id=item.phone_number_id,
        waba_id=item.waba_id,
        correlation_id=item.correlation_id,
        event_at=item.event_at,
    )
