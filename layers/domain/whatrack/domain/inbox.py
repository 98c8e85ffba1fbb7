"""Leads, conversations and tickets, and the ticket rules of CONTRACT §8.3 (decision D2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from whatrack.domain.identity import canonical_phone
from whatrack.domain.ids import stable_id

TICKET_WINDOW = timedelta(hours=24)
CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)
"""Meta's customer service window: free-form replies are accepted for 24 h after the customer's
latest **live** message (CONTRACT §7 Ticket, §8.14); history, App echoes and our replies never
open or extend it."""


class LeadSource(StrEnum):
    DIRECT_CREATION = "direct_creation"
    LIVE_MESSAGE = "live_message"
    HISTORY_SYNC = "history_sync"
    STATE_SYNC = "state_sync"


class TicketOrigin(StrEnum):
    NEW_CONTACT = "new_contact"
    HISTORY_LEAD = "history_lead"
    EXISTING = "existing"


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class OpenOutcome(StrEnum):
    """What a live message's attempt to open its conversation's ticket did (§8.3)."""

    OPENED = "opened"
    CONVERSATION_HAS_ONE = "conversation_has_one"
    """Refused: another ticket is open in the conversation (it may be closed by the time it is read)."""
    MESSAGE_OPENED_ONE = "message_opened_one"
    """Refused: this message opened a ticket already (a redelivery); it never opens another."""


@dataclass(frozen=True)
class TicketOpening:
    outcome: OpenOutcome
    ticket_id: str | None = None
    """The ticket opened (``OPENED`` only)."""


@dataclass(frozen=True)
class Lead:
    """One person of one organization (unique by E.164 phone and by user id)."""

    id: str
    organization_id: str
    source: LeadSource
    created_at: datetime
    has_history: bool = False
    phone_number: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    push_name: str | None = None
    is_active: bool = True
    last_message_at: datetime | None = None
    last_synced_at: datetime | None = None
    deleted_at: datetime | None = None
    correlation_id: str | None = None
    """The delivery that created it (ingest's request id)."""
    merged_into: str | None = None
    """§8.10: set on a lead found to be the same person as an older one (a tombstone that redirects to it)."""
    absorbing: str | None = None
    """§8.10: set on a survivor while a merge into it is not finished (the merged lead's id): whoever
    resolves it finishes that merge. Never set together with ``merged_into``."""

    @property
    def is_history_lead(self) -> bool:
        """§8.3: created by history sync, or holding imported history (contacts usually come first)."""
        return self.source is LeadSource.HISTORY_SYNC or self.has_history


@dataclass(frozen=True)
class ResolvedLead:
    lead: Lead
    created: bool
    tickets_opened: int = 0
    other: Lead | None = None
    """§8.10: a second lead this identity also reaches (the same person, to merge), else ``None``."""


def merge_order(a: Lead, b: Lead) -> tuple[Lead, Lead]:
    """§8.10: ``(survivor, merged)`` of two leads of one person: the one a merge already chose, else the
    older (creation time, then id: ids are time-ordered), so every order of arrival picks the same."""
    if a.merged_into == b.id:
        return b, a
    if b.merged_into == a.id:
        return a, b
    return (a, b) if (a.created_at, a.id) <= (b.created_at, b.id) else (b, a)


@dataclass(frozen=True)
class Conversation:
    """The one conversation of a lead on a connection."""

    id: str
    organization_id: str
    lead_id: str
    connection_id: str
    created_at: datetime
    last_message_at: datetime | None = None
    message_count: int = 0


def conversation_id_for(lead_id: str, connection_id: str) -> str:
    """Deterministic: a lead has exactly one conversation per connection."""
    return stable_id("conversation", lead_id, connection_id)


class TicketSource(StrEnum):
    """Who opened a ticket: a customer's live message, or an agent (``manual``: the dashboard; ``api``)."""

    INCOMING_MESSAGE = "incoming_message"
    API = "api"
    MANUAL = "manual"


INCOMING_TICKET_SOURCE = TicketSource.INCOMING_MESSAGE.value
"""A ticket's ``source`` when a customer's live message opened it."""
FIRST_TICKET_STAGE = "new"


@dataclass(frozen=True)
class Ticket:
    id: str
    organization_id: str
    connection_id: str
    lead_id: str
    conversation_id: str
    source: str
    originated_from: TicketOrigin
    stage: str
    status: TicketStatus
    message_window_expires_at: datetime | None
    created_at: datetime
    last_message_at: datetime
    correlation_id: str | None = None
    """The delivery whose message opened it (ingest's request id)."""
    customer_service_window_ends_at: datetime | None = None
    """Meta's window (:func:`service_window_end` of the latest live inbound message); ``None`` when the
    customer has not written live since onboarding."""
    closed_at: datetime | None = None
    """When it was closed (``None`` while open)."""
    recipient: str | None = None
    """Where a reply goes (:func:`recipient_of` its lead when it opened; ``None``: read the lead)."""


def recipient_of(lead: Lead) -> str | None:
    """A lead's WhatsApp id to send to (digits), or ``None`` when only its user id (BSUID) is known."""
    return (lead.wa_id or canonical_phone(lead.phone_number) or "").lstrip("+") or None


def ticket_origin(lead: Lead, *, lead_created_by_live_traffic: bool) -> TicketOrigin:
    """§8.3 decision for a ticket opened by a live inbound message."""
    if lead.is_history_lead:
        return TicketOrigin.HISTORY_LEAD
    if lead_created_by_live_traffic:
        return TicketOrigin.NEW_CONTACT
    return TicketOrigin.EXISTING


def initial_window(origin: TicketOrigin, message_time: datetime) -> datetime | None:
    """History leads get no 24 h window (product rule D2); everyone else gets message time + 24 h."""
    return None if origin is TicketOrigin.HISTORY_LEAD else message_time + TICKET_WINDOW


def service_window_end(live_message_at: datetime) -> datetime:
    """Where Meta's customer service window ends after a live inbound message (§8.14)."""
    return live_message_at + CUSTOMER_SERVICE_WINDOW
