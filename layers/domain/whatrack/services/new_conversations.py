"""New leads and conversations started by the business (CONTRACT §7a ``POST /leads``, ``POST /tickets``).

A lead created by hand is ``direct_creation``, unless the person is already a lead (any form of the
number, §8.10): then that lead, unchanged. A ticket opened by an agent (``manual``) or an integration
(``api``) needs no customer message: the conversation is created if needed, the origin is
``history_lead`` for a lead with history, else ``existing``, and there is no product window. One open
ticket per conversation still holds: a second open answers the one that is open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.clock import utcnow
from whatrack.domain.connections import plausible_id
from whatrack.domain.errors import InvalidInputError, NotFoundError, TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import LeadSource, OpenOutcome, ResolvedLead, TicketOrigin, TicketSource
from whatrack.services.lookups import owned_connection

if TYPE_CHECKING:
    from whatrack.domain.inbox import Lead, Ticket
    from whatrack.ports import ConnectionRepository, ConversationRepository, LeadRepository, TicketRepository
    from whatrack.ports.accounts import InboxChanges
    from whatrack.ports.reads import InboxReader

logger = Logger(child=True)

OPEN_ATTEMPTS = 3
"""Opens of one request: each retry follows the open ticket it met being closed meanwhile."""


@dataclass(frozen=True)
class Created:
    """What a create answered: the resource, and whether this request made it (``201``) or found it (``200``)."""

    created: bool


@dataclass(frozen=True)
class LeadCreated(Created):
    lead: Lead


@dataclass(frozen=True)
class TicketOpened(Created):
    ticket: Ticket


class NewConversations:
    def __init__(
        self,
        *,
        connections: ConnectionRepository,
        leads: LeadRepository,
        conversations: ConversationRepository,
        tickets: TicketRepository,
        reader: InboxReader,
        changes: InboxChanges | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._changes = changes
        self._connections = connections
        self._leads = leads
        self._conversations = conversations
        self._tickets = tickets
        self._reader = reader
        self._clock = clock

    def create_lead(self, organization_id: str, phone_number: str, push_name: str | None) -> LeadCreated:
        identity = ContactIdentity.of(wa_id=phone_number, name=push_name)
        if identity.phone is None:
            raise InvalidInputError(f"{phone_number!r} is not a valid phone number (E.164, e.g. +5511999990000)")
        existing = self._leads.find(organization_id, identity)
        if existing is not None:
            return LeadCreated(created=False, lead=existing)
        now = self._clock()
        resolved = self._leads.resolve(
            organization_id, identity, LeadSource.DIRECT_CREATION, now, correlation_id=f"lead:{new_id()}"
        )
        if resolved.created and identity.name:
            self._leads.update(resolved.lead.id, push_name=identity.name)
        lead = self._reader.lead(resolved.lead.id) or resolved.lead
        logger.info("lead created by hand", extra={"lead_id": lead.id, "new_lead": resolved.created})
        return LeadCreated(created=resolved.created, lead=lead)

    def open_ticket(self, organization_id: str, lead_id: str, connection_id: str, source: TicketSource) -> TicketOpened:
        connection = owned_connection(self._connections, organization_id, connection_id)
        lead = self._owned_lead(organization_id, lead_id)
        conversation_id = self._conversations.ensure(organization_id, lead.id, connection.id, self._clock(), None)
        origin = TicketOrigin.HISTORY_LEAD if lead.is_history_lead else TicketOrigin.EXISTING
        for _ in range(OPEN_ATTEMPTS):
            now = self._clock()
            opening = self._tickets.open(
                lead=ResolvedLead(lead=lead, created=False),
                connection_id=connection.id,
                conversation_id=conversation_id,
                wamid=f"agent:{new_id()}",  # what opened it: this request (never a message)
                origin=origin,
                window=None,
                message_at=now,
                source=source,
                service_window=None,
            )
            ticket_id = opening.ticket_id if opening.outcome is OpenOutcome.OPENED else None
            created = ticket_id is not None
            ticket_id = ticket_id or self._tickets.open_ticket_id(conversation_id)
            ticket = self._reader.ticket(ticket_id) if ticket_id else None
            if ticket is not None:
                if created and self._changes is not None:
                    self._changes.changed(connection.id)  # another agent's list shows it from now
                logger.info("ticket opened by hand", extra={"ticket_id": ticket.id, "new_ticket": created})
                return TicketOpened(created=created, ticket=ticket)
        raise TransientError(f"the open ticket of conversation {conversation_id} kept changing")

    def _owned_lead(self, organization_id: str, lead_id: str) -> Lead:
        """The lead (or, merged meanwhile, the lead it became) of this organization; else 404."""
        lead = self._reader.lead(lead_id) if plausible_id(lead_id) else None
        seen = 0
        while lead is not None and lead.merged_into is not None and seen < 3:
            lead, seen = self._reader.lead(lead.merged_into), seen + 1
        if lead is None or lead.organization_id != organization_id or lead.merged_into is not None:
            raise NotFoundError(f"lead {lead_id} not found")
        return lead
