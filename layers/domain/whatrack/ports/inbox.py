"""Ports of the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from whatrack.domain.annotations import Annotation
from whatrack.domain.contacts import ContactChange, ContactSyncResult
from whatrack.domain.history import HistoryImportResult, ResolvedThreads, ThreadCounterpart, ThreadImport
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import (
    Conversation,
    Lead,
    LeadSource,
    ResolvedLead,
    TicketOpening,
    TicketOrigin,
    TicketSource,
)
from whatrack.domain.messages import NewMessage


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


class HistoryThreadStore(Protocol):
    """The counterparts of a history chunk, resolved together (a few requests per chunk, not per thread)."""

    def resolve_threads(
        self,
        organization_id: str,
        connection_id: str,
        counterparts: Sequence[ThreadCounterpart],
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ResolvedThreads:
        """Each counterpart's one lead (created at ``now`` as a ``history_sync`` lead with its identity
        guards when new; the missing half of its identity linked when known), flagged ``hasHistory``
        with ``lastMessageAt`` moved forward, and its conversation on the connection upserted
        (``lastMessageAt`` forward), as ``LeadRepository.resolve`` + ``update`` +
        ``ConversationRepository.ensure`` would leave them. A counterpart whose ids reach two leads,
        or a lead merged or absorbing (§8.10), is left untouched and answered ``None``: the caller
        resolves it one by one (``resolve_lead``), which finishes the merge."""


class ContactSyncStore(Protocol):
    """A connection's contact sync (§8.6), a batch at a time, resumable by its checkpoint."""

    def apply(
        self,
        organization_id: str,
        connection_id: str,
        changes: Sequence[ContactChange],
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ContactSyncResult:
        """Apply a batch (by :func:`whatrack.domain.contacts.collapse` and ``outcome``): add creates
        or updates the person's one lead, remove soft-deletes it (or leaves a tombstone), never
        over a later contact change; the connection counts each lead its sync adds once. A new lead is
        created at ``now``."""

    def progress(self, connection_id: str, change_id: str) -> int:
        """How many contacts of the change ``change_id`` were applied (0 when none)."""

    def save_progress(self, connection_id: str, change_id: str, done: int) -> None:
        """Checkpoint: ``done`` contacts of the change are applied (never moves back)."""


class ConversationRepository(Protocol):
    def ensure(
        self, organization_id: str, lead_id: str, connection_id: str, now: datetime, last_message_at: datetime | None
    ) -> str:
        """Upsert the (lead, connection) conversation, ``lastMessageAt`` only forward; its id (a
        retired conversation is left as it is)."""

    def last_message_at(self, conversation_id: str) -> datetime | None:
        """The time of the conversation's latest message (a consistent read)."""

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

    def annotate(self, connection_id: str, annotations: Sequence[Annotation]) -> int:
        """CONTRACT §7: keep reactions (the latest of each side) and edits (each once) on their target
        message, stored yet or not (a target that comes later shows them); the number that changed
        something. Never a message, never counted."""


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
        source: TicketSource,
        service_window: datetime | None,
        correlation_id: str | None = None,
    ) -> TicketOpening:
        """Open the conversation's one open ticket; refused (and why) when one is open there or this
        message already opened one; :class:`TransientError` when the lead was merged meanwhile (§8.10).
        ``wamid`` is what opened it (the live message, or an agent's request); ``service_window`` is
        Meta's window (§8.14) at the opening."""

    def open_ticket_id(self, conversation_id: str) -> str | None:
        """The conversation's open ticket now (a consistent read)."""

    def touch(self, ticket_id: str, message_at: datetime, window: datetime) -> None:
        """A live message on an open ticket: a non-null window only moves forward."""

    def moved(self, ticket_id: str, message_at: datetime) -> None:
        """An App echo or an agent's reply on the ticket: ``lastMessageAt`` moves forward (no window)."""

    def close(self, ticket_id: str, conversation_id: str, at: datetime) -> None:
        """Close an open ticket (``closedAt`` = ``at``) and free its conversation for the next one."""

    def reopen(self, ticket_id: str, conversation_id: str) -> bool:
        """Open a closed ticket again as its conversation's open one; False when it is not closed or
        the conversation has another open ticket (both or neither)."""

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
