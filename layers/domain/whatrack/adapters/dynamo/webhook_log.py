"""The webhook log (LogTable): one entry per change and connection, never moving back in status."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo.tables import Gsi1, Gsi2, LogTableItem, log_key
from whatrack.adapters.dynamo.writes import get_or_none, storage, update_if
from whatrack.domain.changes import WebhookField
from whatrack.domain.clock import iso, parse_iso
from whatrack.domain.connections import ConnectionTarget
from whatrack.domain.log import STATUS_RANK, LogKind, LogStatus, WebhookLogEntry


class WebhookLogItem(LogTableItem):
    by_connection = Gsi1()
    sparse = Gsi2()
    """``gsi2``: ``UNMATCHED#<phone number id>`` (changes kept) and ``FAILED#<connection>#<field>``."""
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
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


def _by_connection_partition(entry: WebhookLogEntry) -> str:
    if entry.connection_id is not None:
        return f"CONN#{entry.connection_id}"
    return f"NOCONN#{entry.at.date().isoformat()}"


class DynamoWebhookLog:
    MAX_PARALLEL_WRITES = 8

    def record(self, entries: Sequence[WebhookLogEntry]) -> None:
        """One conditional UpdateItem per entry; a body with many changes writes them in parallel."""
        if len(entries) <= 1:
            for entry in entries:
                self._record_one(entry)
            return
        with ThreadPoolExecutor(max_workers=min(self.MAX_PARALLEL_WRITES, len(entries))) as pool:
            for future in [pool.submit(self._record_one, entry) for entry in entries]:
                future.result()  # re-raises the first TransientError

    def _record_one(self, entry: WebhookLogEntry) -> None:
        """Write ``entry`` unless it is already further along (e.g. processed): then keep that."""
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
        if entry.status is LogStatus.UNMATCHED and entry.phone_number_id is not None:
            actions.append(WebhookLogItem.gsi2pk.set(f"UNMATCHED#{entry.phone_number_id}"))
            actions.append(WebhookLogItem.gsi2sk.set(WebhookLogItem.gsi2sk | f"{at}#{entry.id}"))
        else:
            actions.append(WebhookLogItem.gsi2pk.remove())
            actions.append(WebhookLogItem.gsi2sk.remove())
        condition = WebhookLogItem.rank.does_not_exist() | (WebhookLogItem.rank <= entry.rank)
        update_if(WebhookLogItem(*log_key(entry.id)), actions, condition, "webhook log write")

    def set_status(self, log_id: str, status: LogStatus, at: datetime, error: str | None = None) -> bool:
        """A consumer's outcome for an existing entry (never moves it back); True when applied."""
        stamp = iso(at) or ""
        actions: list[Any] = [
            WebhookLogItem.status.set(status.value),
            WebhookLogItem.rank.set(STATUS_RANK[status]),
            WebhookLogItem.last_at.set(stamp),
            WebhookLogItem.error.set(error) if error else WebhookLogItem.error.remove(),
        ]
        if status is not LogStatus.UNMATCHED:
            actions += [WebhookLogItem.gsi2pk.remove(), WebhookLogItem.gsi2sk.remove()]
        return update_if(
            WebhookLogItem(*log_key(log_id)),
            actions,
            WebhookLogItem.pk.exists() & (WebhookLogItem.rank <= STATUS_RANK[status]),
            "webhook log status",
        )

    def unmatched(self, phone_number_id: str) -> list[WebhookLogEntry]:
        """Changes kept for a number that had no connection yet, oldest first."""
        with storage("unmatched query"):
            return [_to_entry(i) for i in WebhookLogItem.sparse.query(f"UNMATCHED#{phone_number_id}")]

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
            ],
            WebhookLogItem.status == LogStatus.FAILED.value,
            "webhook log retry",
        )

    def attach(self, log_id: str, target: ConnectionTarget) -> bool:
        """An unmatched entry now belongs to ``target`` and is routed (it leaves the unmatched index)."""
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
            ],
            WebhookLogItem.status == LogStatus.UNMATCHED.value,
            "unmatched attach",
        )

    def get(self, log_id: str) -> WebhookLogItem | None:
        return get_or_none(WebhookLogItem, log_key(log_id), consistent_read=True)


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
    )


def _before_an_outcome() -> Any:
    return WebhookLogItem.rank < STATUS_RANK[LogStatus.FAILED]
