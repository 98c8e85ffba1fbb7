"""Connections: a connected WhatsApp number (the dashboard's "InstanceCard") and its history sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from whatrack.domain.history import missing_orders
from whatrack.domain.media import COUNTED
from whatrack.domain.onboarding import SYNC_REQUEST_WINDOW, SyncRequest, SyncType


class ConnectionMode(StrEnum):
    COEXISTENCE = "coexistence"
    CLOUD_API = "cloud_api"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"


class HistorySyncStatus(StrEnum):
    NOT_SUPPORTED = "not_supported"
    NOT_REQUESTED = "not_requested"
    PENDING_CONSENT = "pending_consent"
    SYNCING = "syncing"
    COMPLETED = "completed"
    DECLINED = "declined"
    FAILED = "failed"


PRE_SYNC_STATUSES = frozenset({HistorySyncStatus.PENDING_CONSENT, HistorySyncStatus.NOT_REQUESTED})
"""States a first history chunk moves to ``syncing`` (§8.5)."""


def kept_by_stop(target: HistorySyncStatus) -> frozenset[HistorySyncStatus]:
    """States a sync stays in when it is stopped as ``target``: a ``completed`` sync is not undone
    by a late chunk's error (that chunk shows ``failed`` and the report a gap), a business's
    decline is not turned into a failure; a decline (2593109) always shows (§8.5)."""
    if target is HistorySyncStatus.FAILED:
        return frozenset({HistorySyncStatus.FAILED, HistorySyncStatus.COMPLETED, HistorySyncStatus.DECLINED})
    return frozenset({target})


class HistorySyncState(BaseModel):
    """The history-sync state of one connection (kept on the connection item)."""

    model_config = ConfigDict(frozen=True)

    status: HistorySyncStatus
    phase: int | None = None
    chunk_order: int | None = None
    progress: int | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    last_payload_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    messages_imported: int = 0
    contacts_imported: int = 0
    threads_imported: int = 0
    media_pending: int = 0
    chunks_seen: frozenset[tuple[int, int]] = frozenset()
    """``(phase, chunk_order)`` of every chunk with metadata that arrived (the card's gaps)."""

    @property
    def chunk_gaps(self) -> list[tuple[int, int]]:
        """Chunk orders missing inside each phase, between 1 and the highest order seen."""
        return missing_orders(self.chunks_seen)

    @property
    def duration_seconds(self) -> int | None:
        """From the first chunk to completion (or to the latest chunk while still syncing)."""
        if self.started_at is None:
            return None
        end = self.completed_at or self.last_payload_at
        if end is None:
            return None
        return max(0, int((end - self.started_at).total_seconds()))


def initial_history_status(mode: ConnectionMode, sync_history: bool) -> HistorySyncStatus:
    if mode is ConnectionMode.CLOUD_API:
        return HistorySyncStatus.NOT_SUPPORTED
    return HistorySyncStatus.PENDING_CONSENT if sync_history else HistorySyncStatus.NOT_REQUESTED


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    organization_id: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str | None
    display_name: str | None
    mode: ConnectionMode
    sync_history: bool
    connection_status: ConnectionStatus
    created_at: datetime
    access_token_secret_id: str | None = None
    verified: bool = False
    """The Graph API confirmed, with the connection's token, that the number belongs to its WABA."""
    status_changed_at: datetime | None = None
    """Time of the event behind ``connection_status`` (events apply by their time, not arrival)."""
    last_checked_at: datetime | None = None
    """When Meta was last asked for the number's state (refresh, daily watchdog)."""
    alert_code: str | None = None
    alert_since: datetime | None = None
    """The stall alert the watchdog last raised (``None`` once cleared)."""
    sync_requests: tuple[SyncRequest, ...] = ()
    history: HistorySyncState
    history_lead_tickets: int = 0
    """Tickets opened by history leads (``historyLeadsWithNewMessages``)."""
    activity: int = 0
    """Moves with every change applied to this number's inbox (a message, a reaction, a status, a
    ticket, a file): the open screens' cheap "anything new?" (its ETag, D-49)."""
    history_inbound: int = 0
    history_outbound: int = 0
    media_placeholders: int = 0
    media_received: int = 0
    media_files: dict[str, int] = Field(default_factory=lambda: {state.value: 0 for state in COUNTED})
    """Its messages' media files by state (``MediaState`` values of ``media.COUNTED``; CONTRACT §6 ``media``)."""

    def sync_request(self, sync_type: SyncType) -> SyncRequest | None:
        return next((r for r in self.sync_requests if r.sync_type is sync_type), None)

    def may_request_sync(self, now: datetime) -> bool:
        """Meta takes ``smb_app_data`` only within 24 h of onboarding."""
        return now - self.created_at <= SYNC_REQUEST_WINDOW


@dataclass(frozen=True)
class ConnectionRequest:
    """What it takes to connect a number (already validated at the edge)."""

    phone_number_id: str
    waba_id: str
    mode: ConnectionMode
    sync_history: bool = False
    display_phone_number: str | None = None
    display_name: str | None = None
    access_token: str | None = None


MAX_ID_LENGTH = 128


def plausible_id(value: str) -> bool:
    """Ids we issue are short; anything longer cannot exist (and must not reach a storage key)."""
    return 0 < len(value) <= MAX_ID_LENGTH


def sync_alert(connection: Connection, now: datetime, stall_after: timedelta) -> tuple[str, datetime] | None:
    """``no_history_received`` when waiting for consent/history longer than ``stall_after``;
    ``stalled`` when syncing with no new chunk for that long (``since`` = when it became so)."""
    state = connection.history
    if state.status is HistorySyncStatus.PENDING_CONSENT and now - connection.created_at > stall_after:
        return "no_history_received", connection.created_at + stall_after
    if state.status is HistorySyncStatus.SYNCING:
        last = state.last_payload_at or state.started_at or connection.created_at
        if now - last > stall_after:
            return "stalled", last + stall_after
    return None
