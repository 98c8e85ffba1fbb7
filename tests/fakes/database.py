"""The one in-memory "database" every fake shares, guarded by one lock.

Rows mirror the items of the DynamoDB adapters (``whatrack/adapters/dynamo``): what an adapter
keeps on one item is kept on one row here, so a counter the adapters move on the connection item
(``messagesImported``, ``mediaPending``...) is visible through ``ConnectionRepository.get``, and
the index sort keys the adapters write (``<iso time>#<id>``) are stored as the same strings, so
the in-memory reader orders and pages exactly like the index queries.

A few adapter writes are unconditional updates (or ``ADD`` counters) that DynamoDB applies to a
missing item too, which creates a partial item. The fakes keep such partial rows where it matters
(``ConnectionRow.connection is None``, ``MessageRow.stored is False``); each fake's docstring says
what it does instead when it does not (``LeadRepository.update``, ``TicketRepository.touch``).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from whatrack.domain.annotations import annotated
from whatrack.domain.changes import ReplayJob
from whatrack.domain.clock import iso
from whatrack.domain.connections import Connection, ConnectionStatus, HistorySyncState, HistorySyncStatus
from whatrack.domain.counting import files_counter
from whatrack.domain.history import ChunkStatus
from whatrack.domain.inbox import Conversation, Lead, Ticket
from whatrack.domain.log import LogStatus, WebhookLogEntry
from whatrack.domain.media import COUNTED
from whatrack.domain.messages import Direction, Media, Message, MessageSource, shown_status
from whatrack.domain.onboarding import SyncRequest, SyncType
from whatrack.domain.organizations import Organization
from whatrack.domain.routing import ConnectionTarget


def utc(value: datetime) -> datetime:
    """What ``UTCDateTimeAttribute`` gives back: the same instant, aware, in UTC (naive = UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def sort_key(at: datetime, unique: str) -> str:
    """The adapters' index sort key ``<iso time, ms>#<id>``."""
    return f"{iso(at)}#{unique}"


# --------------------------------------------------------------------------- AccountsTable
@dataclass
class ConnectionRow:
    """``CONN#<id>``: the connection, its history-sync state and its counters on one item.

    ``connection is None`` for a partial item: a counter or state update DynamoDB applied to a
    connection id that was never created (such an id can no longer be created: ``create``
    finds the item and refuses).
    """

    connection: Connection | None = None
    connection_status: ConnectionStatus | None = None
    hs_status: HistorySyncStatus | None = None
    hs_phase: int | None = None
    hs_chunk_order: int | None = None
    hs_progress: int | None = None
    hs_started_at: datetime | None = None
    hs_completed_at: datetime | None = None
    hs_last_payload_at: datetime | None = None
    hs_error_code: str | None = None
    hs_error_message: str | None = None
    hs_chunks: set[tuple[int, int]] = field(default_factory=set)
    counters: Counter[str] = field(default_factory=Counter)
    status_changed_at: datetime | None = None
    last_checked_at: datetime | None = None
    alert_code: str | None = None
    alert_since: datetime | None = None
    verified: bool = False
    access_token_secret_id: str | None = None
    sync_requests: dict[SyncType, SyncRequest] = field(default_factory=dict)

    def snapshot(self) -> Connection | None:
        """The connection as ``DynamoConnectionRepository.get`` maps its item (``None`` if partial)."""
        base = self.connection
        if base is None or self.hs_status is None or self.connection_status is None:
            return None
        count = self.counters
        history = HistorySyncState(
            status=self.hs_status,
            phase=self.hs_phase,
            chunk_order=self.hs_chunk_order,
            progress=self.hs_progress,
            started_at=self.hs_started_at,
            completed_at=self.hs_completed_at,
            last_payload_at=self.hs_last_payload_at,
            error_code=self.hs_error_code,
            error_message=self.hs_error_message,
            messages_imported=count["messages_imported"],
            contacts_imported=count["contacts_imported"],
            threads_imported=count["threads_imported"],
            media_pending=count["media_pending"],
            chunks_seen=frozenset(self.hs_chunks),
        )
        return base.model_copy(
            update={
                "connection_status": self.connection_status,
                "status_changed_at": self.status_changed_at,
                "last_checked_at": self.last_checked_at,
                "alert_code": self.alert_code,
                "alert_since": self.alert_since,
                "verified": self.verified,
                "access_token_secret_id": self.access_token_secret_id,
                "sync_requests": tuple(self.sync_requests[t] for t in SyncType if t in self.sync_requests),
                "history": history,
                "history_lead_tickets": count["history_lead_tickets"],
                "activity": count["activity"],
                "history_inbound": count["history_inbound"],
                "history_outbound": count["history_outbound"],
                "media_placeholders": count["media_placeholders"],
                "media_received": count["media_received"],
                "media_files": {state.value: count[files_counter(state)] for state in COUNTED},
            }
        )


@dataclass
class WabaLink:
    target: ConnectionTarget
    display_phone_number: str | None
    verified: bool = False


@dataclass(frozen=True)
class ChunkRow:
    phase: int
    chunk_order: int
    progress: int
    threads: int
    messages: int
    received_at: datetime
    status: ChunkStatus
    log_id: str | None
    error: str | None
    content_hash: str | None = None

    @property
    def sort_key(self) -> str:
        """``CHUNK#<phase:03>#<order:06>``, the chunk item's sort key."""
        return f"CHUNK#{self.phase:03d}#{self.chunk_order:06d}"


# --------------------------------------------------------------------------- InboxTable
@dataclass
class LeadRow:
    lead: Lead
    tickets_opened: int = 0
    contact_name_at: datetime | None = None
    """When the contact sync last named it (``DynamoContactSync``'s ``contact_name_at``)."""

    @property
    def sort_key(self) -> str:
        return sort_key(self.lead.created_at, self.lead.id)


@dataclass
class MessageRow:
    """``MSG#<connection>#<wamid>``. ``stored is False``: a stub, a partial item holding the statuses
    that overtook a message never inserted (or what an unconditional update left): no conversation,
    not listed nor counted; the insert completes it, keeping what the message does not set."""

    connection_id: str
    wamid: str
    stored: bool = True
    conversation_id: str | None = None
    organization_id: str | None = None
    list_key: str | None = None
    direction: Direction | None = None
    source: MessageSource | None = None
    type: str | None = None
    timestamp: datetime | None = None
    body: str | None = None
    content: str | None = None
    status: str | None = None
    status_rank: int | None = None
    history_status: str | None = None
    media: dict[str, Any] | None = None
    media_lease: datetime | None = None
    """Until when a download holds the file (``MediaStateStore.claim``)."""
    media_since: datetime | None = None
    """Its place in the media listing (the message's time until a move gives it another)."""
    meta_confirmed_at: datetime | None = None
    deleted: bool = False
    error: str | None = None
    correlation_id: str | None = None
    delivery_status: str | None = None
    delivery_rank: int | None = None
    delivery_error: str | None = None
    reply_to_id: str | None = None
    forwarded: bool | None = None
    reactions: dict[Direction, dict[str, Any]] = field(default_factory=dict)
    """Each side's latest reaction record (``Reaction.record``)."""
    edits: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each edit's record (``Edit.record``) by its wamid."""
    reply: dict[str, Any] | None = None
    reply_wamid: str | None = None
    send_lease: datetime | None = None
    reply_listed: datetime | None = None
    """A pending reply's place in its listing (its timestamp until a sweep queues it again)."""

    def to_message(self) -> Message:
        """As ``to_message`` of the messages adapter maps a stored item."""
        assert self.conversation_id is not None and self.direction is not None and self.source is not None
        assert self.type is not None and self.timestamp is not None
        status, error = shown_status(self.status, self.error, self.delivery_status, self.delivery_error)
        message = Message(
            id=self.wamid,
            conversation_id=self.conversation_id,
            direction=self.direction,
            source=self.source,
            type=self.type,
            body=self.body,
            timestamp=self.timestamp,
            status=status,
            history_status=self.history_status,
            media=Media.stored(self.media),
            meta_confirmed_at=self.meta_confirmed_at,
            deleted=self.deleted,
            error=error,
            content=self.content,
            correlation_id=self.correlation_id,
            reply_to_id=self.reply_to_id,
            forwarded=bool(self.forwarded),
            reply=dict(self.reply) if self.reply is not None else None,
            reply_wamid=self.reply_wamid,
        )
        return annotated(message, self.reactions, self.edits.values())


@dataclass
class TicketRow:
    ticket: Ticket
    opened_by: str

    @property
    def sort_key(self) -> str:
        """Both ticket indexes sort by ``<created (= first message) time>#<id>``."""
        return sort_key(self.ticket.created_at, self.ticket.id)


# --------------------------------------------------------------------------- LogTable
@dataclass
class WebhookRow:
    """``LOG#<id>``: a webhook entry with its two index keys (per connection; unmatched per number)."""

    id: str
    at: str
    last_at: str
    status: LogStatus
    rank: int
    archive_key: str
    entry_index: int
    change_index: int
    by_connection: str
    by_connection_key: str
    field: str | None = None
    event: str | None = None
    error: str | None = None
    connection_id: str | None = None
    organization_id: str | None = None
    phone_number_id: str | None = None
    waba_id: str | None = None
    unmatched_number: str | None = None
    unmatched_key: str | None = None
    failed_partition: str | None = None
    failed_key: str | None = None
    correlation_id: str | None = None
    event_at: datetime | None = None
    pending_key: str | None = None
    """The reconciler's sparse index (``<time of the last move or re-drive>#<id>``); None once final."""
    redrives: int = 0


@dataclass(frozen=True)
class AuditRow:
    id: str
    connection_id: str
    at: str
    event: str
    status: str | None
    error: str | None

    @property
    def sort_key(self) -> str:
        return f"{self.at}#{self.id}"


# --------------------------------------------------------------------------- the database
class InMemoryDatabase:
    """Every table the fakes share; hold :attr:`lock` around any read or write of it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # AccountsTable
        self.organizations: dict[str, tuple[Organization, str]] = {}
        self.api_keys: dict[str, str] = {}
        self.connections: dict[str, ConnectionRow] = {}
        self.phone_number_guards: dict[str, ConnectionTarget] = {}
        self.waba_links: dict[str, dict[str, WabaLink]] = {}
        self.chunks: dict[str, dict[str, ChunkRow]] = {}
        # InboxTable
        self.leads: dict[str, LeadRow] = {}
        self.phone_guards: dict[tuple[str, str], str] = {}
        self.user_guards: dict[tuple[str, str], str] = {}
        self.conversations: dict[str, Conversation] = {}
        self.retired_conversations: dict[str, str] = {}
        """§8.10: a merged lead's conversation → the survivor's (out of every list, refuses messages)."""
        self.message_counts: Counter[str] = Counter()
        self.messages: dict[tuple[str, str], MessageRow] = {}
        self.open_tickets: dict[str, str] = {}
        self.tickets: dict[str, TicketRow] = {}
        self.markers: set[tuple[str, ...]] = set()
        self.contact_tombstones: dict[tuple[str, str, str], datetime] = {}
        """``(organization, "PHONE" | "USER", id)`` → when the App removed a person we had no lead for."""
        self.contact_progress: dict[tuple[str, str], int] = {}
        # LogTable
        self.webhook_log: dict[str, WebhookRow] = {}
        self.kept: dict[tuple[str, str], WebhookLogEntry] = {}  # (phone number id, log id): kept changes
        self.replay_jobs: list[ReplayJob] = []
        self.audit: dict[str, AuditRow] = {}
        # side stores (S3, Secrets Manager)
        self.objects: dict[str, bytes] = {}
        self.secrets: dict[str, str] = {}

    def connection_row(self, connection_id: str) -> ConnectionRow:
        """The connection's row, created partial when missing (what an update of a missing item does)."""
        row = self.connections.get(connection_id)
        if row is None:
            row = self.connections[connection_id] = ConnectionRow()
        return row

    def conversation(self, conversation_id: str) -> Conversation | None:
        found = self.conversations.get(conversation_id)
        if found is None:
            return None
        return replace(found, message_count=self.message_counts[conversation_id])

    def survivor(self, lead_id: str | None) -> LeadRow | None:
        """The lead a (possibly merged) lead id now is (follows ``merged_into``)."""
        row = self.leads.get(lead_id) if lead_id else None
        for _ in range(4):
            if row is None or row.lead.merged_into is None:
                return row
            row = self.leads.get(row.lead.merged_into)
        return None

    def add_marker(self, *parts: str) -> bool:
        """An existence-only item put if absent: True the first time."""
        if parts in self.markers:
            return False
        self.markers.add(parts)
        return True
