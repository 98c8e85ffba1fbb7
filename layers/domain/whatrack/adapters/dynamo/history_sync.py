"""A connection's history-sync state, counters and chunk records (CONTRACT §8.5), order-independent."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo.connections import ConnectionItem
from whatrack.adapters.dynamo.tables import AccountsTableItem, MarkerItem, chunk_key, connection_key, marker_key
from whatrack.adapters.dynamo.writes import CountedInsert, storage, update_if, write_counted
from whatrack.domain.connections import PRE_SYNC_STATUSES, HistorySyncStatus
from whatrack.domain.history import ChunkStatus


class ChunkItem(AccountsTableItem):
    """``CONN#<id>`` / ``CHUNK#<phase>#<chunk order>``: one per chunk, for the gap view."""

    phase = NumberAttribute()
    chunk_order = NumberAttribute()
    progress = NumberAttribute()
    threads = NumberAttribute(default=0)
    messages = NumberAttribute(default=0)
    received_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    error = UnicodeAttribute(null=True)
    log_id = UnicodeAttribute(null=True)


class DynamoHistorySync:
    """Atomic, order-independent updates of a connection's history-sync state."""

    def chunk_arrived(self, connection_id: str, phase: int, chunk_order: int, progress: int, at: datetime) -> bool:
        """Record arrival; True when this chunk started the sync (first chunk → ``syncing``)."""
        item = ConnectionItem(*connection_key(connection_id))
        with storage("sync state update"):
            item.update(
                actions=[
                    ConnectionItem.hs_last_payload_at.set(at),
                    ConnectionItem.hs_started_at.set(ConnectionItem.hs_started_at | at),
                ]
            )
        # progress/phase/chunk shown are those of the highest progress seen, never going back
        update_if(
            item,
            [
                ConnectionItem.hs_progress.set(progress),
                ConnectionItem.hs_phase.set(phase),
                ConnectionItem.hs_chunk_order.set(chunk_order),
            ],
            ConnectionItem.hs_progress.does_not_exist() | (ConnectionItem.hs_progress < progress),
            "sync progress",
        )
        return update_if(
            item,
            [ConnectionItem.hs_status.set(HistorySyncStatus.SYNCING.value)],
            ConnectionItem.hs_status.is_in(*(s.value for s in PRE_SYNC_STATUSES)),
            "sync start",
        )

    def complete(self, connection_id: str, at: datetime) -> bool:
        """``progress`` 100 in any phase → ``completed``; True on the transition."""
        return update_if(
            ConnectionItem(*connection_key(connection_id)),
            [
                ConnectionItem.hs_status.set(HistorySyncStatus.COMPLETED.value),
                ConnectionItem.hs_completed_at.set(ConnectionItem.hs_completed_at | at),
            ],
            ConnectionItem.hs_status != HistorySyncStatus.COMPLETED.value,
            "sync completion",
        )

    def stop(self, connection_id: str, status: HistorySyncStatus, code: str, message: str, at: datetime) -> bool:
        """``declined`` (2593109) or ``failed`` with its error; True on the transition."""
        return update_if(
            ConnectionItem(*connection_key(connection_id)),
            [
                ConnectionItem.hs_status.set(status.value),
                ConnectionItem.hs_error_code.set(code),
                ConnectionItem.hs_error_message.set(message),
                ConnectionItem.hs_last_payload_at.set(at),
            ],
            ConnectionItem.hs_status != status.value,
            "sync stop",
        )

    def record_chunk(
        self,
        connection_id: str,
        phase: int,
        chunk_order: int,
        progress: int,
        *,
        threads: int,
        messages: int,
        status: ChunkStatus,
        at: datetime,
        log_id: str | None,
        error: str | None = None,
    ) -> None:
        item = ChunkItem(
            *chunk_key(connection_id, phase, chunk_order),
            phase=phase,
            chunk_order=chunk_order,
            progress=progress,
            threads=threads,
            messages=messages,
            received_at=at,
            status=status.value,
            error=error,
            log_id=log_id,
        )
        with storage("chunk record"):
            item.save()

    def count_contact(self, connection_id: str, lead_id: str) -> bool:
        """``contactsImported`` +1 the first time this connection's contact sync adds this lead."""
        marker = CountedInsert(
            MarkerItem(*marker_key("CONTACT", connection_id, lead_id)),
            [(ConnectionItem, connection_key(connection_id), "contacts_imported", 1)],
        )
        return bool(write_counted([marker]))
