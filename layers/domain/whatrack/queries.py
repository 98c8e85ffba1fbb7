"""Organization-scoped reads and ticket closing for the status API.

Every lookup answers another organization's resource exactly like a missing one (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatrack.connections import plausible_id
from whatrack.errors import NotFoundError

if TYPE_CHECKING:
    from whatrack.adapters.read_dynamo import DynamoReader
    from whatrack.ports import InboxStore


class InboxQueries:
    def __init__(self, reader: DynamoReader, inbox: InboxStore) -> None:
        self.reader = reader
        self._inbox = inbox

    def lead(self, organization_id: str, lead_id: str) -> Any:
        lead = self.reader.lead(lead_id) if plausible_id(lead_id) else None
        if lead is None or lead.organization_id != organization_id:
            raise NotFoundError(f"lead {lead_id} not found")
        return lead

    def conversation(self, organization_id: str, conversation_id: str) -> Any:
        conversation = self.reader.conversation(conversation_id) if plausible_id(conversation_id) else None
        if conversation is None or conversation.organization_id != organization_id:
            raise NotFoundError(f"conversation {conversation_id} not found")
        return conversation

    def ticket(self, organization_id: str, ticket_id: str) -> Any:
        ticket = self.reader.ticket(ticket_id) if plausible_id(ticket_id) else None
        if ticket is None or ticket.organization_id != organization_id:
            raise NotFoundError(f"ticket {ticket_id} not found")
        return ticket

    def ticket_lead(self, ticket: Any) -> Any:
        lead = self.reader.lead(ticket.lead_id)
        if lead is None:
            raise NotFoundError(f"lead of ticket {ticket.id} not found")
        return lead

    def close_ticket(self, organization_id: str, ticket_id: str) -> Any:
        """Close an open ticket (idempotent: closing a closed ticket returns it unchanged)."""
        ticket = self.ticket(organization_id, ticket_id)
        if ticket.status == "open":
            self._inbox.close_ticket(ticket.id, ticket.conversation_id)
            ticket = self.ticket(organization_id, ticket_id)
        return ticket
