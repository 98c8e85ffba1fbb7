"""Ports: what the services need from the outside world, as Protocols (they import the domain only).

Adapters in :mod:`whatrack.adapters` implement them for AWS; the unit tier uses in-memory fakes,
and one contract suite runs against both so their conditional semantics cannot drift. Every
adapter raises :class:`whatrack.domain.errors.TransientError` when its backend is unavailable.

Writes are conditional and idempotent: methods returning ``bool`` answer whether this call
changed anything (``False`` = already applied, or refused by the rule it encodes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from whatrack.domain.changes import ChangeMessage, WebhookField
from whatrack.domain.connections import Connection, ConnectionStatus, ConnectionTarget, HistorySyncStatus
from whatrack.domain.history import ChunkRecord, ChunkStatus, HistoryImportResult, ThreadImport
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import (
    Conversation,
    Lead,
    LeadSource,
    ResolvedLead,
    Ticket,
    TicketOpening,
    TicketOrigin,
)
from whatrack.domain.log import LogRecord, LogStatus, WebhookLogEntry
from whatrack.domain.messages import Message, NewMessage
from whatrack.domain.onboarding import NumberState, PhoneNumber, SyncOutcome, SyncType
from whatrack.domain.organizations import Organization
from whatrack.domain.paging import Page


# --------------------------------------------------------------------------- webhook path
class ArchiveStore(Protocol):
    def put_raw(self, raw: bytes, *, received_at: datetime) -> str:
        """Store ``raw`` under a content-addressed key and return the key (idempotent)."""

    def get_raw(self, key: str) -> bytes:
        """Read an archived body back."""


class ChangePublisher(Protocol):
    def publish(self, messages: Sequence[ChangeMessage]) -> None:
        """Send each message to its field's queue; raise if any could not be sent."""


class WebhookSecrets(Protocol):
    def app_secret(self) -> str: ...

    def verify_token(self) -> str: ...


class ConnectionDirectory(Protocol):
    """Ingest's read side: which connection(s) a change belongs to."""

    def targets_for_phone_number_id(self, phone_number_id: str) -> list[ConnectionTarget]: ...

    def targets_for_waba(self, waba_id: str, display_phone_number: str | None) -> list[ConnectionTarget]: ...


class WebhookLog(Protocol):
    def record(self, entries: Sequence[WebhookLogEntry]) -> None:
        """Write entries; an entry never moves back to an earlier status."""

    def set_status(self, log_id: str, status: LogStatus, at: datetime, error: str | None = None) -> bool:
        """A consumer's outcome for an existing entry (never moves it back)."""

    def unmatched(self, phone_number_id: str) -> list[WebhookLogEntry]:
        """Changes kept for a number that had no connection yet, oldest first."""

    def attach(self, log_id: str, target: ConnectionTarget) -> bool:
        """An unmatched entry now belongs to ``target`` and is ``routed``."""

    def mark_failed(self, log_id: str, at: datetime, error: str, *, connection_id: str, field: WebhookField) -> bool:
        """A change that kept failing: ``failed`` with its reason (the last attempt's error when one
        was noted by :meth:`set_status`, else ``error``), listed by :meth:`failed` until retried.
        An entry already ``processed`` or ``rejected`` stays so."""

    def failed(self, connection_id: str, field: WebhookField) -> list[WebhookLogEntry]:
        """This connection's entries of ``field`` that ended ``failed``, oldest first."""

    def retry(self, log_id: str, at: datetime) -> bool:
        """A ``failed`` entry is ``routed`` again (its change is being re-sent); True on that move."""


# --------------------------------------------------------------------------- accounts
class OrganizationRepository(Protocol):
    def create(self, organization: Organization, api_key_hash: str) -> None: ...

    def find_by_api_key_hash(self, api_key_hash: str) -> Organization | None: ...


class AdminCredentials(Protocol):
    def admin_api_key(self) -> str: ...


class TokenVault(Protocol):
    def store(self, connection_id: str, token: str) -> str:
        """Store a connection's access token; return its secret id."""

    def delete(self, secret_id: str) -> None: ...

    def read(self, secret_id: str) -> str: ...


class ConnectionRepository(Protocol):
    def create(self, connection: Connection) -> None:
        """Insert; :class:`ConflictError` when the phone number id is already connected."""

    def get(self, connection_id: str) -> Connection | None: ...

    def find_by_phone_number_id(self, phone_number_id: str) -> Connection | None:
        """The connection holding this number (active or disconnected)."""

    def list_for_organization(self, organization_id: str) -> list[Connection]:
        """Newest first."""

    def all_connections(self) -> list[Connection]:
        """Every connection of every organization (the watchdog's round)."""

    def set_status(self, connection_id: str, status: ConnectionStatus, at: datetime) -> bool:
        """Apply an event of time ``at`` unless a later one was applied; True when the status changed."""

    def reconnect(
        self, connection: Connection, at: datetime, *, access_token_secret_id: str | None, verified: bool
    ) -> bool:
        """Its organization connects a disconnected number again: ``active`` at ``at``, with its new
        token; False when it was not disconnected."""

    def mark_checked(self, connection_id: str, at: datetime) -> None:
        """Meta was asked for the number's state at ``at``."""


class GraphApi(Protocol):
    """Meta's Graph API (every failure is an :class:`UpstreamError`)."""

    def exchange_code(self, code: str) -> str:
        """Embedded Signup's ``code`` → the business token."""

    def phone_numbers(self, waba_id: str, token: str) -> list[PhoneNumber]:
        """The WABA's numbers ``token`` can read."""

    def request_sync(self, phone_number_id: str, token: str, sync_type: SyncType) -> str:
        """``smb_app_data``: Meta's ``request_id``."""

    def number_state(self, phone_number_id: str, token: str) -> NumberState: ...


class HistorySyncStore(Protocol):
    """A connection's history-sync state and counters: order-independent transitions (§8.5)."""

    def chunk_arrived(self, connection_id: str, phase: int, chunk_order: int, progress: int, at: datetime) -> bool:
        """Record arrival; True when this chunk started the sync (first chunk → ``syncing``)."""

    def complete(self, connection_id: str, at: datetime) -> bool:
        """``completed``; True on the transition."""

    def stop(self, connection_id: str, status: HistorySyncStatus, code: str, message: str, at: datetime) -> bool:
        """``declined`` or ``failed`` with its error; True on the transition."""

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
    ) -> None: ...

    def count_contact(self, connection_id: str, lead_id: str) -> bool:
        """``contactsImported`` +1 the first time this connection's contact sync adds this lead."""

    def begin_request(self, connection_id: str, sync_type: SyncType, at: datetime) -> bool:
        """Save the intent to ask Meta for ``sync_type``: True unless one was made that Meta did
        not refuse (accepted, pending or answer lost): Meta takes each sync type once."""

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
        """Record Meta's answer to the pending request."""

    def set_alert(self, connection_id: str, code: str | None, since: datetime | None, *, expected: str | None) -> bool:
        """Move the stall alert from ``expected`` to ``code``; True on that transition."""

    def resume(self, connection_id: str) -> bool:
        """A sync that failed on a chunk goes back to ``syncing`` (``completed`` if it had completed)."""


# --------------------------------------------------------------------------- inbox
class LeadRepository(Protocol):
    def resolve(
        self,
        organization_id: str,
        identity: ContactIdentity,
        source: LeadSource,
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ResolvedLead:
        """The one lead of this person in this organization, created (by ``correlation_id``) if new."""

    def find(self, organization_id: str, identity: ContactIdentity) -> Lead | None: ...

    def update(
        self,
        lead_id: str,
        *,
        has_history: bool = False,
        message_at: datetime | None = None,
        push_name: str | None = None,
        overwrite_name: bool = False,
        synced_at: datetime | None = None,
        active: bool | None = None,
    ) -> None:
        """Set what is given; ``message_at`` only moves ``lastMessageAt`` forward. On a lead merged
        meanwhile (§8.10) the lead it became is updated too."""

    def retire(self, lead_id: str, into: str) -> ResolvedLead | None:
        """§8.10: mark the lead merged into ``into`` (out of the lists; lookups of its id redirect) and
        ``into`` absorbing it (a merge in progress), both or neither; a repeat applies again. Its state
        from then on, or ``None`` when either lead does not exist, it was merged into another lead or is
        absorbing one, or ``into`` was merged or is absorbing another lead."""

    def absorb(self, lead_id: str, merged: ResolvedLead) -> ResolvedLead:
        """§8.10: the ids, history flag, last message, name, tickets and latest contact-sync state of
        ``merged`` join this lead (idempotent); the lead as it now is."""

    def repoint(
        self, organization_id: str, identities: Sequence[ContactIdentity], from_lead: str, to_lead: str
    ) -> None:
        """§8.10: the identity guards of ``identities`` pointing at ``from_lead`` (or missing) now point
        at ``to_lead``."""

    def end_merge(self, lead_id: str, merged: str) -> None:
        """§8.10: the merge of ``merged`` into this lead is over: its ``absorbing`` mark is removed, only
        if it is that merge's."""


class ConversationRepository(Protocol):
    def ensure(
        self, organization_id: str, lead_id: str, connection_id: str, now: datetime, last_message_at: datetime | None
    ) -> str:
        """Upsert the (lead, connection) conversation, ``lastMessageAt`` only forward; its id (a
        retired conversation is left as it is)."""

    def retire(self, conversation_id: str, into: str) -> Conversation | None:
        """§8.10: the conversation of a merged lead leaves every list and refuses new messages (a
        counted insert into it raises :class:`TransientError`); its state, ``None`` when there is none."""


class MessageRepository(Protocol):
    def import_history(
        self, organization_id: str, connection_id: str, threads: Sequence[ThreadImport]
    ) -> HistoryImportResult:
        """Insert a chunk's new messages and threads with their counters."""

    def insert(
        self,
        organization_id: str,
        connection_id: str,
        conversation_id: str,
        message: NewMessage,
        *,
        history: bool = False,
    ) -> bool:
        """Insert one message if its (connection, wamid) is new (statuses kept for it stay); True when inserted."""

    def fill_media(
        self, connection_id: str, wamid: str, media_type: str, media: dict[str, Any], body: str | None
    ) -> bool:
        """§8.8: fill a placeholder's media, once."""

    def move(self, connection_id: str, from_conversation: str, to_conversation: str) -> int:
        """§8.10: every message of a retired conversation moves, with its count, to ``to_conversation``
        (each once, whoever moves it); the number this call moved."""

    def restore_revoked(self, connection_id: str, message: NewMessage) -> bool:
        """The original of an earlier revoke arrived: keep it deleted, with its content."""

    def confirm_echo(self, connection_id: str, wamid: str, confirmed_at: datetime) -> None:
        """§8.7 known wamid: ``app_echo``, ``metaConfirmedAt``, status at least ``sent``."""

    def mark_deleted(self, connection_id: str, wamid: str) -> bool:
        """Mark a stored message deleted; False when it is not stored."""

    def apply_status(self, connection_id: str, wamid: str, status: str, error: str | None) -> bool:
        """§8.9: statuses only move forward (past the status the message was stored with too);
        ``failed`` records the error. A status of a message not stored yet is kept, never listed
        nor counted, and shown once the message is inserted (by any path). False when not applied."""


class TicketRepository(Protocol):
    def open(
        self,
        *,
        lead: ResolvedLead,
        connection_id: str,
        conversation_id: str,
        wamid: str,
        origin: TicketOrigin,
        window: datetime | None,
        message_at: datetime,
        correlation_id: str | None = None,
    ) -> TicketOpening:
        """Open the conversation's one open ticket; refused (and why) when one is open there or this
        message already opened one; :class:`TransientError` when the lead was merged meanwhile (§8.10)."""

    def open_ticket_id(self, conversation_id: str) -> str | None:
        """The conversation's open ticket now (a consistent read)."""

    def touch(self, ticket_id: str, message_at: datetime, window: datetime) -> None:
        """A live message on an open ticket: a non-null window only moves forward."""

    def close(self, ticket_id: str, conversation_id: str) -> None:
        """Close an open ticket and free its conversation for the next one."""

    def reassign(
        self, connection_id: str, from_conversation: str, to_conversation: str, from_lead: str, to_lead: str
    ) -> None:
        """§8.10: the merged lead's tickets on this connection move to the survivor's conversation; its
        open ticket stays open there unless one is open there already (then it is closed)."""


class AuditLog(Protocol):
    def record(
        self,
        connection_id: str,
        event: str,
        at: datetime,
        *,
        key: str,
        status: str | None = None,
        error: str | None = None,
    ) -> None:
        """One audit entry per (connection, key): replays do not repeat it."""


# --------------------------------------------------------------------------- operations
class AlertNotifier(Protocol):
    def notify(self, subject: str, message: str) -> None:
        """Tell the operators (SNS in AWS)."""


class MetricsRecorder(Protocol):
    def count(self, name: str, value: float = 1) -> None:
        """Add ``value`` to the metric ``name`` of this invocation."""

    def seconds(self, name: str, value: float) -> None:
        """Record a duration in seconds."""


class NoMetrics:
    """A :class:`MetricsRecorder` that records nothing (the default where nobody asked for metrics)."""

    def count(self, name: str, value: float = 1) -> None:
        return None

    def seconds(self, name: str, value: float) -> None:
        return None


# --------------------------------------------------------------------------- reads
class InboxReader(Protocol):
    """The status API's read side: read models only, every list one index query (no scans)."""

    def lead(self, lead_id: str) -> Lead | None: ...

    def leads(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        source: LeadSource | None = None,
        connection_id: str | None = None,
        phone_number: str | None = None,
    ) -> Page[Lead]:
        """Newest first."""

    def conversations_of(self, lead_id: str) -> list[Conversation]: ...

    def conversation(self, conversation_id: str) -> Conversation | None: ...

    def messages(self, conversation_id: str, *, limit: int, cursor: str | None) -> Page[Message]:
        """Oldest first."""

    def all_messages(self, conversation_id: str) -> list[Message]: ...

    def ticket(self, ticket_id: str) -> Ticket | None: ...

    def tickets(
        self, organization_id: str, *, limit: int, cursor: str | None, connection_id: str | None, status: str | None
    ) -> Page[Ticket]:
        """Newest first."""

    def logs(self, connection_id: str, *, limit: int, cursor: str | None) -> Page[LogRecord]:
        """Newest first."""

    def chunks(self, connection_id: str) -> list[ChunkRecord]:
        """Sorted by (phase, chunk order)."""
