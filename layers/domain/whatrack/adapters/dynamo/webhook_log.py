"""The webhook log (LogTable): one entry per change and connection, never moving back in status.

Entries not final yet (``received``, ``routed``, ``unmatched``) are listed in the sparse index
``gsi3`` (``PENDING#<shard>`` / ``<time of the last move or re-drive>#<id>``); the key is removed
when the entry reaches an outcome, so the reconciler reads only what may be stuck, page by page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo import webhook_kept
from whatrack.adapters.dynamo.cursors import decode_cursor, encode_cursor
from whatrack.adapters.dynamo.tables import Gsi1, Gsi2, Gsi3, LogTableItem, log_key
from whatrack.adapters.dynamo.writes import get_or_none, put_if_absent, storage, update_if
from whatrack.domain.changes import WebhookField
from whatrack.domain.clock import iso, parse_iso
from whatrack.domain.errors import InvalidInputError
from whatrack.domain.ids import stable_id
from whatrack.domain.log import PENDING_STATUSES, STATUS_RANK, LogKind, LogStatus, WebhookLogEntry
from whatrack.domain.paging import Page
from whatrack.domain.routing import ConnectionTarget

PENDING_SHARDS = 4
"""Partitions of the pending index: every change writes it, so no single hot key."""


class WebhookLogItem(LogTableItem):
    by_connection = Gsi1()
    sparse = Gsi2()
    """``gsi2``: ``FAILED#<connection>#<field>`` (changes that kept failing, for the retry)."""
    pending = Gsi3()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    redrives = NumberAttribute(null=True)
    kind = UnicodeAttribute()
    id = UnicodeAttribute()
    at = UnicodeAttribute()
    last_at = UnicodeAttribute()
    status = UnicodeAttribute()
    rank = NumberAttribute()
    field = UnicodeAttribute(null=True)
    event = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    archive_key = UnicodeAttribute()
    entry_index = NumberAttribute()
    change_index = NumberAttribute()
    connection_id = UnicodeAttribute(null=True)
    organization_id = UnicodeAttribute(null=True)
    phone_number_id = UnicodeAttribute(null=True)
    waba_id = UnicodeAttribute(null=True)
    correlation_id = UnicodeAttribute(null=True)
    event_at = UTCDateTimeAttribute(null=True)


def _failed_partition(connection_id: str, field: WebhookField) -> str:
    return f"FAILED#{connection_id}#{field.value}"


def pending_shard(log_id: str) -> str:
    return f"PENDING#{int(stable_id('pending', log_id)[:8], 16) % PENDING_SHARDS}"


def _pending_key(log_id: str, since: datetime) -> str:
    return f"{iso(since)}#{log_id}"


def _pending(log_id: str, since: datetime) -> list[Any]:
    return [WebhookLogItem.gsi3pk.set(pending_shard(log_id)), WebhookLogItem.gsi3sk.set(_pending_key(log_id, since))]


def _not_pending() -> list[Any]:
    return [WebhookLogItem.gsi3pk.remove(), WebhookLogItem.gsi3sk.remove()]


def _by_connection_partition(entry: WebhookLogEntry) -> str:
    if entry.connection_id is not None:
        return f"CONN#{entry.connection_id}"
    return f"NOCONN#{entry.at.date().isoformat()}"


def _new_item(entry: WebhookLogEntry, pending: bool) -> WebhookLogItem:
    """The item :meth:`DynamoWebhookLog._update` leaves on an absent key."""
    at = iso(entry.at)
    assert at is not None
    return WebhookLogItem(
        *log_key(entry.id),
        kind=LogKind.WEBHOOK.value,
        id=entry.id,
        at=at,
        last_at=at,
        status=entry.status.value,
        rank=entry.rank,
        archive_key=entry.archive_key,
        entry_index=entry.entry_index,
        change_index=entry.change_index,
        gsi1pk=_by_connection_partition(entry),
        gsi1sk=f"{at}#{entry.id}",
        field=entry.field,
        event=entry.event,
        error=entry.error,
        connection_id=entry.connection_id,
        organization_id=entry.organization_id,
        phone_number_id=entry.phone_number_id,
        waba_id=entry.waba_id,
        correlation_id=entry.correlation_id,
        event_at=entry.event_at,
        gsi3pk=pending_shard(entry.id) if pending else None,
        gsi3sk=_pending_key(entry.id, entry.at) if pending else None,
    )


class DynamoWebhookLog:
    MAX_PARALLEL_WRITES = 8

    def record(self, entries: Sequence[WebhookLogEntry]) -> None:
        """One conditional write per entry (a put when new); a body with many changes writes them in
        parallel."""
        if len(entries) <= 1:
            for entry in entries:
                self._record_one(entry)
            return
        with ThreadPoolExecutor(max_workers=min(self.MAX_PARALLEL_WRITES, len(entries))) as pool:
            for future in [pool.submit(self._record_one, entry) for entry in entries]:
                future.result()  # re-raises the first TransientError

    def _record_one(self, entry: WebhookLogEntry) -> None:
        """Write ``entry`` unless it is already further along (e.g. processed): then keep that.

        A new entry is put whole (one request); one that exists (a redelivery) is then updated under
        its rank, keeping its first time."""
        kept = entry.status is LogStatus.UNMATCHED and entry.phone_number_id is not None
        pending = entry.status in PENDING_STATUSES and (kept or entry.connection_id is not None)
        applied = put_if_absent(_new_item(entry, pending), "webhook log write") or self._update(entry, pending)
        if applied and kept:
            webhook_kept.keep(entry)

    @staticmethod
    def _update(entry: WebhookLogEntry, pending: bool) -> bool:
        at = iso(entry.at)
        assert at is not None
        actions: list[Any] = [
            WebhookLogItem.kind.set(LogKind.WEBHOOK.value),
            WebhookLogItem.id.set(entry.id),
            WebhookLogItem.at.set(WebhookLogItem.at | at),
            WebhookLogItem.last_at.set(at),
            WebhookLogItem.status.set(entry.status.value),
            WebhookLogItem.rank.set(entry.rank),
            WebhookLogItem.archive_key.set(entry.archive_key),
            WebhookLogItem.entry_index.set(entry.entry_index),
            WebhookLogItem.change_index.set(entry.change_index),
            WebhookLogItem.gsi1pk.set(_by_connection_partition(entry)),
            WebhookLogItem.gsi1sk.set(WebhookLogItem.gsi1sk | f"{at}#{entry.id}"),
        ]
        optional = (
            (WebhookLogItem.field, entry.field),
            (WebhookLogItem.event, entry.event),
            (WebhookLogItem.error, entry.error),
            (WebhookLogItem.connection_id, entry.connection_id),
            (WebhookLogItem.organization_id, entry.organization_id),
            (WebhookLogItem.phone_number_id, entry.phone_number_id),
            (WebhookLogItem.waba_id, entry.waba_id),
            (WebhookLogItem.correlation_id, entry.correlation_id),
        )
        for attribute, value in optional:
            actions.append(attribute.set(value) if value is not None else attribute.remove())
        event_at = WebhookLogItem.event_at
        actions.append(event_at.set(entry.event_at) if entry.event_at is not None else event_at.remove())
        actions += [WebhookLogItem.gsi2pk.remove(), WebhookLogItem.gsi2sk.remove()]
        actions += _pending(entry.id, entry.at) if pending else _not_pending()
        condition = WebhookLogItem.rank.does_not_exist() | (WebhookLogItem.rank <= entry.rank)
        return update_if(WebhookLogItem(*log_key(entry.id)), actions, condition, "webhook log write")

    def set_status(self, log_id: str, status: LogStatus, at: datetime, error: str | None = None) -> bool:
        """A consumer's outcome for an existing entry (never moves it back); True when applied."""
        stamp = iso(at) or ""
        actions: list[Any] = [
            WebhookLogItem.status.set(status.value),
            WebhookLogItem.rank.set(STATUS_RANK[status]),
            WebhookLogItem.last_at.set(stamp),
            WebhookLogItem.error.set(error) if error else WebhookLogItem.error.remove(),
        ]
        if status not in PENDING_STATUSES:
            actions += [WebhookLogItem.gsi2pk.remove(), WebhookLogItem.gsi2sk.remove(), *_not_pending()]
        return update_if(
            WebhookLogItem(*log_key(log_id)),
            actions,
            WebhookLogItem.pk.exists() & (WebhookLogItem.rank <= STATUS_RANK[status]),
            "webhook log status",
        )

    def unsent(self, log_ids: Sequence[str], at: datetime) -> None:
        """The one move back: ingest's own ``routed`` claim, when the queue refused the message."""
        for log_id in log_ids:
            update_if(
                WebhookLogItem(*log_key(log_id)),
                [
                    WebhookLogItem.status.set(LogStatus.RECEIVED.value),
                    WebhookLogItem.rank.set(STATUS_RANK[LogStatus.RECEIVED]),
                    WebhookLogItem.last_at.set(iso(at) or ""),
                ],
                WebhookLogItem.status == LogStatus.ROUTED.value,
                "webhook log unsent",
            )

    def unmatched(self, phone_number_id: str, *, limit: int = 100, cursor: str | None = None) -> Page[WebhookLogEntry]:
        """One page of the changes kept for a number that had no connection yet (ConsistentRead)."""
        return webhook_kept.kept_page(phone_number_id, limit=limit, cursor=cursor)

    def release(self, phone_number_id: str, log_id: str) -> None:
        webhook_kept.release(phone_number_id, log_id)

    def stuck(self, before: datetime, *, limit: int, cursor: str | None = None) -> Page[WebhookLogEntry]:
        """Up to ``limit`` pending entries older than ``before``, shard after shard: one query per
        shard visited (a page that fills up stops there; its cursor resumes in that shard)."""
        shard, key = _decode_stuck_cursor(cursor)
        found: list[WebhookLogEntry] = []
        bound = f"{iso(before)}#"
        while shard < PENDING_SHARDS and len(found) < limit:
            partition = f"PENDING#{shard}"
            with storage("pending query"):
                results = WebhookLogItem.pending.query(
                    partition,
                    WebhookLogItem.gsi3sk < bound,
                    limit=limit - len(found),
                    last_evaluated_key=decode_cursor(key, "gsi3pk", partition),
                )
                found += [_to_entry(item) for item in results]
                key = encode_cursor(results.last_evaluated_key)
            if key is None:
                shard += 1
        more = shard < PENDING_SHARDS
        return Page(found, json.dumps([shard, key]) if more else None)

    def redriven(self, log_id: str, at: datetime, *, next_check: datetime) -> bool:
        return update_if(
            WebhookLogItem(*log_key(log_id)),
            [
                WebhookLogItem.gsi3sk.set(_pending_key(log_id, next_check)),
                WebhookLogItem.redrives.add(1),
                WebhookLogItem.last_at.set(iso(at) or ""),
            ],
            WebhookLogItem.status.is_in(*(s.value for s in PENDING_STATUSES)) & WebhookLogItem.gsi3pk.exists(),
            "webhook log re-drive",
        )

    def of_connection(
        self, connection_id: str, start: datetime, end: datetime, *, limit: int, cursor: str | None = None
    ) -> Page[WebhookLogEntry]:
        """Webhook entries (not audit entries) of the connection first received in ``[start, end]``."""
        partition = f"CONN#{connection_id}"
        with storage("connection log query"):
            results = WebhookLogItem.by_connection.query(
                partition,
                WebhookLogItem.gsi1sk.between(f"{iso(start)}#", f"{iso(end)}#~"),
                filter_condition=WebhookLogItem.kind == LogKind.WEBHOOK.value,
                limit=limit,
                last_evaluated_key=decode_cursor(cursor, "gsi1pk", partition),
            )
            return Page([_to_entry(item) for item in results], encode_cursor(results.last_evaluated_key))

    def mark_failed(self, log_id: str, at: datetime, error: str, *, connection_id: str, field: WebhookField) -> bool:
        """``failed`` (unless already processed or rejected), and listed under
        ``gsi2 = FAILED#<connection>#<field>`` (sparse) for the retry."""
        stamp = iso(at) or ""
        return update_if(
            WebhookLogItem(*log_key(log_id)),
            [
                WebhookLogItem.status.set(LogStatus.FAILED.value),
                WebhookLogItem.rank.set(STATUS_RANK[LogStatus.FAILED]),
                WebhookLogItem.last_at.set(stamp),
                # the last attempt's error when one was noted, else the given reason
                WebhookLogItem.error.set(WebhookLogItem.error | error),
                WebhookLogItem.gsi2pk.set(_failed_partition(connection_id, field)),
                WebhookLogItem.gsi2sk.set(f"{stamp}#{log_id}"),
                *_not_pending(),
            ],
            # an outcome already reached (processed, rejected) is not undone by a late dead letter
            WebhookLogItem.pk.exists()
            & (
                (WebhookLogItem.rank < STATUS_RANK[LogStatus.FAILED])
                | (WebhookLogItem.status == LogStatus.FAILED.value)
            ),
            "webhook log failure",
        )

    def failed(self, connection_id: str, field: WebhookField) -> list[WebhookLogEntry]:
        """This connection's ``failed`` entries of ``field``, oldest first: one query of a sparse index."""
        with storage("failed changes query"):
            items = WebhookLogItem.sparse.query(_failed_partition(connection_id, field))
            return [_to_entry(i) for i in items]

    def retry(self, log_id: str, at: datetime) -> bool:
        return update_if(
            WebhookLogItem(*log_key(log_id)),
            [
                WebhookLogItem.status.set(LogStatus.ROUTED.value),
                WebhookLogItem.rank.set(STATUS_RANK[LogStatus.ROUTED]),
                WebhookLogItem.last_at.set(iso(at) or ""),
                WebhookLogItem.error.remove(),
                WebhookLogItem.gsi2pk.remove(),
                WebhookLogItem.gsi2sk.remove(),
                WebhookLogItem.redrives.remove(),  # a retried change gets the reconciler's full count
                *_pending(log_id, at),
            ],
            WebhookLogItem.status == LogStatus.FAILED.value,
            "webhook log retry",
        )

    def attach(self, log_id: str, target: ConnectionTarget, at: datetime | None = None) -> bool:
        """An unmatched entry now belongs to ``target`` and is routed (sent at ``at``)."""
        return update_if(
            WebhookLogItem(*log_key(log_id)),
            [
                WebhookLogItem.connection_id.set(target.connection_id),
                WebhookLogItem.organization_id.set(target.organization_id),
                WebhookLogItem.gsi1pk.set(f"CONN#{target.connection_id}"),
                WebhookLogItem.status.set(LogStatus.ROUTED.value),
                WebhookLogItem.rank.set(STATUS_RANK[LogStatus.ROUTED]),
                WebhookLogItem.error.remove(),
                WebhookLogItem.gsi2pk.remove(),
                WebhookLogItem.gsi2sk.remove(),
                # the sweeps that found it waiting for its connection were no re-drives
                WebhookLogItem.redrives.remove(),
                *(_pending(log_id, at) if at is not None else []),
            ],
            WebhookLogItem.status == LogStatus.UNMATCHED.value,
            "unmatched attach",
        )

    def get(self, log_id: str) -> WebhookLogItem | None:
        return get_or_none(WebhookLogItem, log_key(log_id), consistent_read=True)


def _decode_stuck_cursor(cursor: str | None) -> tuple[int, str | None]:
    if cursor is None:
        return 0, None
    try:
        shard, key = json.loads(cursor)
        return int(shard), (str(key) if key is not None else None)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("cursor is not valid", code="invalid_cursor") from exc


def _to_entry(item: WebhookLogItem) -> WebhookLogEntry:
    return WebhookLogEntry(
        id=item.id,
        at=parse_iso(item.at) or datetime.now(UTC),
        status=LogStatus(item.status),
        archive_key=item.archive_key,
        entry_index=int(item.entry_index),
        change_index=int(item.change_index),
        field=item.field,
        event=item.event,
        error=item.error,
        connection_id=item.connection_id,
        organization_id=item.organization_id,
        phone_number_id=item.phone_number_id,
        waba_id=item.waba_id,
        correlation_id=item.correlation_id,
        event_at=item.event_at,
        redrives=int(item.redrives or 0),
    )


def _before_an_outcome() -> Any:
    return WebhookLogItem.rank < STATUS_RANK[LogStatus.FAILED]
