"""Organization-scoped reads of the status API, and closing a ticket.

Every lookup answers another organization's resource exactly like a missing one (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from whatrack.domain.clock import utcnow
from whatrack.domain.connections import plausible_id
from whatrack.domain.errors import ConflictError, NotFoundError
from whatrack.domain.inbox import TicketStatus
from whatrack.services.lookups import owned_connection

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from whatrack.domain.connections import Connection
    from whatrack.domain.history import ChunkRecord
    from whatrack.domain.inbox import Conversation, Lead, LeadSource, Ticket
    from whatrack.domain.log import LogRecord
    from whatrack.domain.messages import Message
    from whatrack.domain.paging import Page
    from whatrack.ports import ConnectionRepository, InboxReader, TicketRepository
    from whatrack.ports.accounts import InboxChanges


@dataclass(frozen=True)
class LeadDetail:
    lead: Lead
    conversations: list[Conversation]


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    lead: Lead
    messages: Page[Message]


@dataclass(frozen=True)
class HistorySyncDetail:
    connection: Connection
    chunks: list[ChunkRecord]


class InboxQueries:
    def __init__(
        self,
        reader: InboxReader,
        connections: ConnectionRepository,
        tickets: TicketRepository,
        changes: InboxChanges | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._reader = reader
        self._connections = connections
        self._tickets = tickets
        self._changes = changes
        self._clock = clock

    # ------------------------------------------------------------------ connections
    def history_sync(self, organization_id: str, connection_id: str) -> HistorySyncDetail:
        connection = owned_connection(self._connections, organization_id, connection_id)
        chunks = sorted(self._reader.chunks(connection.id), key=lambda c: (c.phase, c.chunk_order))
        return HistorySyncDetail(connection, chunks)

    def logs(self, organization_id: str, connection_id: str, *, limit: int, cursor: str | None) -> Page[LogRecord]:
        connection = owned_connection(self._connections, organization_id, connection_id)
        return self._reader.logs(connection.id, limit=limit, cursor=cursor)

    # ------------------------------------------------------------------ leads and messages
    def leads(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        source: LeadSource | None = None,
        connection_id: str | None = None,
        phone_number: str | None = None,
        by_activity: bool = False,
    ) -> Page[Lead]:
        if connection_id is not None:
            owned_connection(self._connections, organization_id, connection_id)
        return self._reader.leads(
            organization_id,
            limit=limit,
            cursor=cursor,
            source=source,
            connection_id=connection_id,
            phone_number=phone_number,
            by_activity=by_activity,
        )

    def lead(self, organization_id: str, lead_id: str) -> LeadDetail:
        lead = self._lead(organization_id, lead_id)
        return LeadDetail(lead, self._reader.conversations_of(lead.id))

    def messages(
        self, organization_id: str, conversation_id: str, *, limit: int, cursor: str | None, latest: bool = False
    ) -> Page[Message]:
        conversation = self._reader.conversation(conversation_id) if plausible_id(conversation_id) else None
        if conversation is None or conversation.organization_id != organization_id:
            raise NotFoundError(f"conversation {conversation_id} not found")
        return self._reader.messages(conversation.id, limit=limit, cursor=cursor, latest=latest)

    # ------------------------------------------------------------------ tickets
    def tickets(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        connection_id: str | None,
        status: str | None,
        by_activity: bool = False,
    ) -> Page[Ticket]:
        if connection_id is not None:
            owned_connection(self._connections, organization_id, connection_id)
        return self._reader.tickets(
            organization_id,
            limit=limit,
            cursor=cursor,
            connection_id=connection_id,
            status=status,
            by_activity=by_activity,
        )

    def ticket(
        self, organization_id: str, ticket_id: str, *, limit: int, cursor: str | None, latest: bool = False
    ) -> TicketDetail:
        """The ticket, its lead, and one page of its conversation oldest first (history and live);
        ``latest``: the page at its newest end (or before ``cursor``)."""
        ticket = self._ticket(organization_id, ticket_id)
        lead = self._reader.lead(ticket.lead_id)
        if lead is None:
            raise NotFoundError(f"lead of ticket {ticket.id} not found")
        messages = self._reader.messages(ticket.conversation_id, limit=limit, cursor=cursor, latest=latest)
        return TicketDetail(ticket, lead, messages)

    def close_ticket(self, organization_id: str, ticket_id: str) -> Ticket:
        """Close an open ticket (idempotent: closing a closed ticket returns it unchanged)."""
        ticket = self._ticket(organization_id, ticket_id)
        if ticket.status is TicketStatus.OPEN:
            self._tickets.close(ticket.id, ticket.conversation_id, self._clock())
            ticket = self._ticket(organization_id, ticket_id)
        self._changed(ticket)  # also on a retry: the first call may have failed before telling the screens
        return ticket

    def reopen_ticket(self, organization_id: str, ticket_id: str) -> Ticket:
        """Open a closed ticket again (idempotent); refused while its conversation has another open one."""
        ticket = self._ticket(organization_id, ticket_id)
        if ticket.status is TicketStatus.OPEN:
            self._changed(ticket)  # a retry: the first call may have failed before telling the screens
            return ticket
        if not self._tickets.reopen(ticket.id, ticket.conversation_id):
            ticket = self._ticket(organization_id, ticket_id)
            if ticket.status is TicketStatus.OPEN:  # reopened meanwhile, by another request
                return ticket
            raise ConflictError(
                "this ticket's conversation has another open ticket", code="conversation_has_open_ticket"
            )
        self._changed(ticket)
        return self._ticket(organization_id, ticket_id)

    def _changed(self, ticket: Ticket) -> None:
        """Another agent's screens of this number show the ticket's new state from now."""
        if self._changes is not None:
            self._changes.changed(ticket.connection_id)

    # ------------------------------------------------------------------ lookups
    def _lead(self, organization_id: str, lead_id: str) -> Lead:
        lead = self._reader.lead(lead_id) if plausible_id(lead_id) else None
        if lead is None or lead.organization_id != organization_id:
            raise NotFoundError(f"lead {lead_id} not found")
        return lead

    def _ticket(self, organization_id: str, ticket_id: str) -> Ticket:
        ticket = self._reader.ticket(ticket_id) if plausible_id(ticket_id) else None
        if ticket is None or ticket.organization_id != organization_id:
            raise NotFoundError(f"ticket {ticket_id} not found")
        return ticket
