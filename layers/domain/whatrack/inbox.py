"""Inbox domain: leads, conversations, messages, tickets, and the rules of CONTRACT §8."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from whatrack.identity import same_number

TICKET_WINDOW = timedelta(hours=24)
REVOKED_TYPE = "revoked"
"""Type of a tombstone kept for a message revoked before it arrived."""


class LeadSource(StrEnum):
    DIRECT_CREATION = "direct_creation"
    LIVE_MESSAGE = "live_message"
    HISTORY_SYNC = "history_sync"
    STATE_SYNC = "state_sync"


class MessageSource(StrEnum):
    LIVE = "live"
    HISTORY = "history"
    APP_ECHO = "app_echo"


class Direction(StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


class TicketOrigin(StrEnum):
    NEW_CONTACT = "new_contact"
    HISTORY_LEAD = "history_lead"
    EXISTING = "existing"


# Delivery states only move forward (§8.9); "failed" is terminal and records its error.
STATUS_RANK: dict[str, int] = {"pending": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 5}


def status_rank(status: str | None) -> int:
    return STATUS_RANK.get((status or "").lower(), -1)


def status_from_history(history_status: str | None) -> str | None:
    """``history_context.status`` (any case) → our message status."""
    if not history_status:
        return None
    lowered = history_status.lower()
    return "failed" if lowered == "error" else lowered if lowered in STATUS_RANK else None


def direction_of(sender: str | None, business_number: str | None) -> Direction:
    """§8.4: OUTBOUND when ``from`` is the business number, else INBOUND (a missing ``from`` is a customer)."""
    return Direction.OUTBOUND if sender is not None and same_number(sender, business_number) else Direction.INBOUND


@dataclass(frozen=True)
class Lead:
    id: str
    organization_id: str
    source: LeadSource
    has_history: bool
    created_at: datetime
    phone_number: str | None = None
    user_id: str | None = None

    @property
    def is_history_lead(self) -> bool:
        """§8.3: created by history sync, or holding imported history (contacts usually come first)."""
        return self.source is LeadSource.HISTORY_SYNC or self.has_history


@dataclass(frozen=True)
class ResolvedLead:
    lead: Lead
    created: bool
    tickets_opened: int = 0


@dataclass(frozen=True)
class NewMessage:
    """A message to insert if its (connection, wamid) is not stored yet."""

    wamid: str
    direction: Direction
    source: MessageSource
    type: str
    timestamp: datetime
    body: str | None = None
    status: str | None = None
    history_status: str | None = None
    media: dict[str, Any] | None = None
    meta_confirmed_at: datetime | None = None
    deleted: bool = False
    error: str | None = None
    content: str | None = None


@dataclass
class ThreadImport:
    """One conversation's share of a history chunk."""

    conversation_id: str
    lead_id: str
    messages: list[NewMessage] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryImportResult:
    new_messages: int
    new_threads: int


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
