"""Tickets (InboxTable): at most one open per conversation, through the guard ``OPEN#<conversation>``."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo.connections import ConnectionItem
from whatrack.adapters.dynamo.leads import GuardItem, LeadItem
from whatrack.adapters.dynamo.tables import (
    Activity1,
    Activity2,
    Gsi1,
    Gsi2,
    InboxTableItem,
    MarkerItem,
    connection_key,
    lead_key,
    marker_key,
    open_ticket_guard_key,
    ticket_key,
)
from whatrack.adapters.dynamo.writes import (
    OrderedTransactWrite,
    get_or_none,
    set_if_later,
    storage,
    transact,
    transact_refusals,
    update_if,
)
from whatrack.domain.clock import iso
from whatrack.domain.errors import TransientError
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import (
    FIRST_TICKET_STAGE,
    OpenOutcome,
    ResolvedLead,
    Ticket,
    TicketOpening,
    TicketOrigin,
    TicketSource,
    TicketStatus,
    recipient_of,
    service_window_end,
)

# the writes of the opening transaction whose refusals mean something, by name
OPEN_GUARD, OPENED_BY_MESSAGE, LEAD_COUNTER = "open guard", "opened-by marker", "lead counter"


class TicketItem(InboxTableItem):
    by_organization = Gsi1()
    by_connection = Gsi2()
    by_activity = Activity1()
    by_connection_activity = Activity2()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    id = UnicodeAttribute()
    organization_id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    lead_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    source = UnicodeAttribute()
    originated_from = UnicodeAttribute()
    stage = UnicodeAttribute()
    status = UnicodeAttribute()
    message_window_expires_at = UTCDateTimeAttribute(null=True)
    # Meta's customer service window: the latest live inbound message + 24 h (§8.14)
    service_window_ends_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_message_at = UTCDateTimeAttribute()
    opened_by = UnicodeAttribute()
    correlation_id = UnicodeAttribute(null=True)
    recipient = UnicodeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)


def to_ticket(item: TicketItem) -> Ticket:
    return Ticket(
        id=item.id,
        organization_id=item.organization_id,
        connection_id=item.connection_id,
        lead_id=item.lead_id,
        conversation_id=item.conversation_id,
        source=item.source,
        originated_from=TicketOrigin(item.originated_from),
        stage=item.stage,
        status=TicketStatus(item.status),
        message_window_expires_at=item.message_window_expires_at,
        created_at=item.created_at,
        last_message_at=item.last_message_at,
        correlation_id=item.correlation_id,
        customer_service_window_ends_at=item.service_window_ends_at,
        recipient=item.recipient,
        closed_at=item.closed_at,
    )


class DynamoTicketRepository:
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
        """Create the conversation's one open ticket, unless one is open there or this message
        already opened one (the transaction's refused conditions tell which)."""
        ticket_id = new_id()
        org = lead.lead.organization_id
        item = TicketItem(
            *ticket_key(ticket_id),
            gsi1pk=f"ORG#{org}#TICKETS",
            gsi1sk=f"{iso(message_at)}#{ticket_id}",
            gsi2pk=f"CONN#{connection_id}#TICKETS",
            gsi2sk=f"{iso(message_at)}#{ticket_id}",
            id=ticket_id,
            organization_id=org,
            connection_id=connection_id,
            lead_id=lead.lead.id,
            conversation_id=conversation_id,
            source=source.value,
            originated_from=origin.value,
            stage=FIRST_TICKET_STAGE,
            status=TicketStatus.OPEN.value,
            message_window_expires_at=window,
            service_window_ends_at=service_window,
            created_at=message_at,
            last_message_at=message_at,
            opened_by=wamid,
            correlation_id=correlation_id,
            recipient=recipient_of(lead.lead),
        )

        def write(tx: OrderedTransactWrite) -> None:
            tx.save(
                GuardItem(*open_ticket_guard_key(conversation_id), ticket_id=ticket_id),
                condition=GuardItem.pk.does_not_exist(),
                name=OPEN_GUARD,  # refused: the conversation has an open ticket
            )
            tx.save(
                MarkerItem(*marker_key("TICKETBY", connection_id, wamid)),
                condition=MarkerItem.pk.does_not_exist(),
                name=OPENED_BY_MESSAGE,  # refused: this message already opened one
            )
            tx.save(item, condition=TicketItem.pk.does_not_exist(), name="ticket")
            tx.update(
                LeadItem(*lead_key(lead.lead.id)),
                actions=[LeadItem.tickets_opened.add(1)],
                condition=LeadItem.merged_into.does_not_exist(),
                name=LEAD_COUNTER,  # refused: the lead was merged into another (§8.10)
            )
            if origin is TicketOrigin.HISTORY_LEAD:
                tx.update(
                    ConnectionItem(*connection_key(connection_id)),
                    actions=[ConnectionItem.history_lead_tickets.add(1)],
                )

        refused = transact_refusals("ticket create", write)
        if not refused:
            return TicketOpening(OpenOutcome.OPENED, ticket_id)
        if LEAD_COUNTER in refused:
            raise TransientError(f"lead {lead.lead.id} was merged into another: resolve it again")
        if OPENED_BY_MESSAGE in refused:
            return TicketOpening(OpenOutcome.MESSAGE_OPENED_ONE)
        if OPEN_GUARD in refused:
            return TicketOpening(OpenOutcome.CONVERSATION_HAS_ONE)
        # a refusal none of the named conditions explains (DynamoDB did not say which): try again
        raise TransientError(f"the ticket opening was refused for a reason not given ({sorted(refused)}): retry")

    def open_ticket_id(self, conversation_id: str) -> str | None:
        guard = get_or_none(GuardItem, open_ticket_guard_key(conversation_id), consistent_read=True)
        return guard.ticket_id if guard else None

    def close(self, ticket_id: str, conversation_id: str, at: datetime) -> None:
        """Close an open ticket and free its conversation for the next one (one transaction)."""

        def write(tx: TransactWrite) -> None:
            tx.update(
                TicketItem(*ticket_key(ticket_id)),
                actions=[TicketItem.status.set(TicketStatus.CLOSED.value), TicketItem.closed_at.set(at)],
                condition=TicketItem.status == TicketStatus.OPEN.value,
            )
            tx.delete(GuardItem(*open_ticket_guard_key(conversation_id)), condition=GuardItem.ticket_id == ticket_id)

        transact("ticket close", write)  # False: already closed, nothing to do

    def reopen(self, ticket_id: str, conversation_id: str) -> bool:
        """The ticket open again and its conversation's open one (one transaction)."""

        def write(tx: TransactWrite) -> None:
            tx.save(
                GuardItem(*open_ticket_guard_key(conversation_id), ticket_id=ticket_id),
                condition=GuardItem.pk.does_not_exist(),
            )
            tx.update(
                TicketItem(*ticket_key(ticket_id)),
                actions=[TicketItem.status.set(TicketStatus.OPEN.value), TicketItem.closed_at.remove()],
                condition=(TicketItem.status == TicketStatus.CLOSED.value)
                & (TicketItem.conversation_id == conversation_id),
            )

        return transact("ticket reopen", write)

    def touch(self, ticket_id: str, message_at: datetime, window: datetime) -> None:
        """A live message on an open ticket: a non-null window moves forward to message time + 24 h;
        Meta's window (any ticket's: it is the customer's) to the latest live message + 24 h."""
        item = TicketItem(*ticket_key(ticket_id))
        set_if_later(item, TicketItem.service_window_ends_at, service_window_end(message_at), "service window")
        update_if(
            item,
            [TicketItem.message_window_expires_at.set(window)],
            TicketItem.message_window_expires_at.exists()
            & (TicketItem.message_window_expires_at < window)
            & (TicketItem.status == TicketStatus.OPEN.value),
            "ticket window",
        )
        set_if_later(item, TicketItem.last_message_at, message_at, "ticket last message")

    def moved(self, ticket_id: str, message_at: datetime) -> None:
        later = TicketItem.last_message_at < message_at  # a ticket always has one: no partial item is made
        update_if(
            TicketItem(*ticket_key(ticket_id)), [TicketItem.last_message_at.set(message_at)], later, "ticket moved"
        )

    def reassign(
        self, connection_id: str, from_conversation: str, to_conversation: str, from_lead: str, to_lead: str
    ) -> None:
        """§8.10: a merged lead's tickets on this connection follow it. Its open ticket keeps the
        conversation open unless the survivor has one open there already (then it is closed)."""
        guard = get_or_none(GuardItem, open_ticket_guard_key(from_conversation), consistent_read=True)
        if guard is not None and guard.ticket_id:
            ticket_id = guard.ticket_id
            released = GuardItem.ticket_id == ticket_id

            def keep_open(tx: TransactWrite) -> None:
                tx.delete(GuardItem(*open_ticket_guard_key(from_conversation)), condition=released)
                tx.save(
                    GuardItem(*open_ticket_guard_key(to_conversation), ticket_id=ticket_id),
                    condition=GuardItem.pk.does_not_exist(),
                )

            def close(tx: TransactWrite) -> None:
                tx.delete(GuardItem(*open_ticket_guard_key(from_conversation)), condition=released)
                tx.update(
                    TicketItem(*ticket_key(ticket_id)),
                    actions=[TicketItem.status.set(TicketStatus.CLOSED.value)],
                    condition=TicketItem.status == TicketStatus.OPEN.value,
                )

            if not transact("ticket follows its lead", keep_open):
                transact("ticket closed by a merge", close)  # False: a concurrent merge moved it already
        with storage("tickets of a merged lead"):
            tickets = list(
                TicketItem.by_connection.query(
                    f"CONN#{connection_id}#TICKETS", filter_condition=TicketItem.lead_id == from_lead
                )
            )
        for ticket in tickets:
            update_if(
                TicketItem(*ticket_key(ticket.id)),
                [TicketItem.lead_id.set(to_lead), TicketItem.conversation_id.set(to_conversation)],
                TicketItem.lead_id == from_lead,
                "ticket follows its lead",
            )
