"""A connection's history-sync state, counters and chunk records (CONTRACT §8.5), order-independent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo.connections import SYNC_REQUEST_PREFIX, ConnectionItem, seen_chunk
from whatrack.adapters.dynamo.tables import (
    AccountsTableItem,
    MarkerItem,
    chunk_key,
    connection_key,
    connection_members,
    marker_key,
)
from whatrack.adapters.dynamo.writes import CountedInsert, get_or_none, storage, update_if, write_counted
from whatrack.domain.connections import PRE_SYNC_STATUSES, HistorySyncStatus, kept_by_stop
from whatrack.domain.history import CHUNK_FAILED_CODE, ChunkStatus
from whatrack.domain.onboarding import SyncOutcome, SyncType


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
    content_hash = UnicodeAttribute(null=True)


class DynamoHistorySync:
    """Atomic, order-independent updates of a connection's history-sync state."""

    def chunk_arrived(self, connection_id: str, phase: int, chunk_order: int, progress: int, at: datetime) -> bool:
        """Record arrival; True when this chunk started the sync (first chunk → ``syncing``).

        One request for most chunks: the arrival and the progress in one update, which applies when
        the chunk is ahead (progress, phase and chunk shown are those of the highest progress seen,
        never going back); a chunk behind records its arrival alone. Both answer the item as it is
        now, so the sync start is written only when the status read back is one a first chunk moves
        (the first chunk of a sync)."""
        item = ConnectionItem(*connection_key(connection_id))
        arrival: list[Any] = [
            ConnectionItem.hs_last_payload_at.set(at),
            ConnectionItem.hs_started_at.set(ConnectionItem.hs_started_at | at),
            ConnectionItem.hs_chunks.add({seen_chunk(phase, chunk_order)}),  # a set: a redelivery adds nothing
        ]
        ahead = [
            ConnectionItem.hs_progress.set(progress),
            ConnectionItem.hs_phase.set(phase),
            ConnectionItem.hs_chunk_order.set(chunk_order),
        ]
        condition = ConnectionItem.hs_progress.does_not_exist() | (ConnectionItem.hs_progress < progress)
        if not update_if(item, arrival + ahead, condition, "sync progress"):
            with storage("sync state update"):
                item.update(actions=arrival)
        if item.hs_status not in {s.value for s in PRE_SYNC_STATUSES}:
            return False
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
        """``declined`` (2593109) or ``failed`` with its error, unless the sync is in a state the stop
        keeps (:func:`kept_by_stop`); True on the transition."""
        return update_if(
            ConnectionItem(*connection_key(connection_id)),
            [
                ConnectionItem.hs_status.set(status.value),
                ConnectionItem.hs_error_code.set(code),
                ConnectionItem.hs_error_message.set(message),
                ConnectionItem.hs_last_payload_at.set(at),
            ],
            ConnectionItem.hs_status.does_not_exist()
            | ~ConnectionItem.hs_status.is_in(*(s.value for s in kept_by_stop(status))),
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
        content_hash: str | None = None,
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
            content_hash=content_hash,
        )
        with storage("chunk record"):
            item.save()

    def chunk_imported(self, connection_id: str, phase: int, chunk_order: int, content_hash: str) -> bool:
        found = get_or_none(ChunkItem, chunk_key(connection_id, phase, chunk_order), consistent_read=True)
        return found is not None and found.status == ChunkStatus.PROCESSED.value and found.content_hash == content_hash

    def count_contact(self, connection_id: str, lead_id: str) -> bool:
        """``contactsImported`` +1 the first time this connection's contact sync adds this lead."""
        marker = CountedInsert(
            MarkerItem(
                *marker_key("CONTACT", connection_id, lead_id),
                gsi2pk=connection_members(connection_id),
                gsi2sk=f"{lead_id}#CONTACT",
            ),
            [(ConnectionItem, connection_key(connection_id), "contacts_imported", 1)],
        )
        return bool(write_counted([marker]))

    # ------------------------------------------------------------------ smb_app_data requests
    def begin_request(self, connection_id: str, sync_type: SyncType, at: datetime) -> bool:
        """The intent, saved before Meta is called: only when none was made or Meta refused it."""
        prefix = SYNC_REQUEST_PREFIX[sync_type]
        outcome = getattr(ConnectionItem, f"{prefix}_outcome")
        return update_if(
            ConnectionItem(*connection_key(connection_id)),
            [
                outcome.set(SyncOutcome.PENDING.value),
                getattr(ConnectionItem, f"{prefix}_requested_at").set(at),
                getattr(ConnectionItem, f"{prefix}_request_id").remove(),
                getattr(ConnectionItem, f"{prefix}_answered_at").remove(),
                getattr(ConnectionItem, f"{prefix}_error_code").remove(),
                getattr(ConnectionItem, f"{prefix}_error_message").remove(),
            ],
            ConnectionItem.pk.exists() & (outcome.does_not_exist() | (outcome == SyncOutcome.FAILED.value)),
            "sync request intent",
        )

    def finish_request(
        self,
        connection_id: str,
        sync_type: SyncType,
        outcome: SyncOutcome,
        at: datetime,
        *,
        request_id: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        prefix = SYNC_REQUEST_PREFIX[sync_type]
        actions: list[Any] = [
            getattr(ConnectionItem, f"{prefix}_outcome").set(outcome.value),
            getattr(ConnectionItem, f"{prefix}_answered_at").set(at),
        ]
        for name, value in (("request_id", request_id), ("error_code", error_code), ("error_message", error_message)):
            if value is not None:
                actions.append(getattr(ConnectionItem, f"{prefix}_{name}").set(value))
        update_if(
            ConnectionItem(*connection_key(connection_id)),
            actions,
            getattr(ConnectionItem, f"{prefix}_outcome") == SyncOutcome.PENDING.value,
            "sync request answer",
        )

    # ------------------------------------------------------------------ watchdog and retry
    def set_alert(self, connection_id: str, code: str | None, since: datetime | None, *, expected: str | None) -> bool:
        current = ConnectionItem.alert_code
        actions: list[Any] = (
            [current.set(code), ConnectionItem.alert_since.set(since)]
            if code is not None and since is not None
            else [current.remove(), ConnectionItem.alert_since.remove()]
        )
        condition = current.does_not_exist() if expected is None else current == expected
        return update_if(
            ConnectionItem(*connection_key(connection_id)),
            actions,
            ConnectionItem.pk.exists() & condition,
            "sync alert",
        )

    def resume(self, connection_id: str) -> bool:
        """``failed`` on a chunk → ``completed`` when it had completed, else ``syncing`` (error cleared)."""
        item = ConnectionItem(*connection_key(connection_id))
        failed_on_chunk = (ConnectionItem.hs_status == HistorySyncStatus.FAILED.value) & (
            ConnectionItem.hs_error_code == CHUNK_FAILED_CODE
        )
        clear = [ConnectionItem.hs_error_code.remove(), ConnectionItem.hs_error_message.remove()]
        return update_if(
            item,
            [ConnectionItem.hs_status.set(HistorySyncStatus.COMPLETED.value), *clear],
            failed_on_chunk & ConnectionItem.hs_completed_at.exists(),
            "sync resume",
        ) or update_if(
            item,
            [ConnectionItem.hs_status.set(HistorySyncStatus.SYNCING.value), *clear],
            failed_on_chunk & ConnectionItem.hs_completed_at.does_not_exist(),
            "sync resume",
        )
