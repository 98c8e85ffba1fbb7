"""Port contract: Tickets: one open per conversation, windows, closing."""

from __future__ import annotations

from tests.integration.contracts.support import (
    T0,
    Inbox,
    Ports,
    at,
    inbox,
    open_ticket,
    opening,
    phone,
    stored,
    unique_number,
)
from whatrack.domain.inbox import (
    CUSTOMER_SERVICE_WINDOW,
    TICKET_WINDOW,
    LeadSource,
    OpenOutcome,
    TicketOrigin,
    TicketStatus,
    conversation_id_for,
)


# =========================================================================== tickets
def test_a_conversation_has_one_open_ticket(ports: Ports) -> None:
    # Given a conversation with an open ticket
    box = inbox(ports)
    first = open_ticket(ports, box, "wamid.O1")
    # When another message tries to open one
    second = open_ticket(ports, box, "wamid.O2", 60)
    # Then none is opened and the conversation's open ticket is the first
    assert first is not None and second is None
    assert ports.tickets.open_ticket_id(box.conversation_id) == first


def test_a_ticket_keeps_its_origin_window_and_first_message_time(ports: Ports) -> None:
    # Given a conversation
    box = inbox(ports)
    # When a live message opens a ticket
    ticket_id = open_ticket(ports, box, "wamid.F", 30, origin=TicketOrigin.EXISTING)
    # Then the ticket is open, from an incoming message, with the window and times given
    assert ticket_id is not None
    ticket = ports.reader.ticket(ticket_id)
    assert ticket is not None
    assert (ticket.status, ticket.source, ticket.stage, ticket.originated_from) == (
        TicketStatus.OPEN,
        "incoming_message",
        "new",
        TicketOrigin.EXISTING,
    )
    assert (ticket.created_at, ticket.last_message_at, ticket.message_window_expires_at) == (
        at(30),
        at(30),
        at(30) + TICKET_WINDOW,
    )
    assert (ticket.lead_id, ticket.organization_id) == (box.lead.lead.id, box.organization_id)


def test_a_history_lead_ticket_is_counted_on_the_connection(ports: Ports) -> None:
    # Given two conversations of one connection
    box = inbox(ports, source=LeadSource.HISTORY_SYNC)
    other_lead = ports.leads.resolve(box.organization_id, phone(unique_number()), LeadSource.LIVE_MESSAGE, T0)
    other = Inbox(
        box.connection,
        other_lead,
        ports.conversations.ensure(box.organization_id, other_lead.lead.id, box.connection.id, T0, None),
    )
    # When one opens a history-lead ticket and the other a new-contact ticket
    open_ticket(ports, box, "wamid.HL", origin=TicketOrigin.HISTORY_LEAD, windowless=True)
    open_ticket(ports, other, "wamid.NC", origin=TicketOrigin.NEW_CONTACT)
    # Then only the history lead's ticket is counted
    assert stored(ports, box.connection.id).history_lead_tickets == 1


def test_a_message_opens_at_most_one_ticket_even_after_a_close(ports: Ports) -> None:
    # Given a ticket opened by a message, then closed
    box = inbox(ports)
    first = open_ticket(ports, box, "wamid.ONCE")
    assert first is not None
    ports.tickets.close(first, box.conversation_id, T0)
    # When that message is redelivered, and a new message arrives
    replayed = open_ticket(ports, box, "wamid.ONCE")
    fresh = open_ticket(ports, box, "wamid.NEXT", 60)
    # Then the replay opens nothing and the new message opens a new ticket
    assert replayed is None and fresh is not None and fresh != first
    resolved = ports.leads.resolve(box.organization_id, phone(box.lead.lead.wa_id or ""), LeadSource.LIVE_MESSAGE, T0)
    assert resolved.tickets_opened == 2


def test_closing_frees_the_conversation(ports: Ports) -> None:
    # Given an open ticket
    box = inbox(ports)
    ticket_id = open_ticket(ports, box, "wamid.C")
    assert ticket_id is not None
    # When it is closed
    ports.tickets.close(ticket_id, box.conversation_id, T0)
    # Then it is closed, when it was, and the conversation has no open ticket
    ticket = ports.reader.ticket(ticket_id)
    assert ticket is not None and ticket.status is TicketStatus.CLOSED and ticket.closed_at == T0
    assert ports.tickets.open_ticket_id(box.conversation_id) is None


def test_a_closed_ticket_reopens_only_while_its_conversation_has_no_other_open_one(ports: Ports) -> None:
    # Given a closed ticket, and its conversation's next ticket open
    box = inbox(ports)
    first = open_ticket(ports, box, "wamid.R1")
    assert first is not None
    ports.tickets.close(first, box.conversation_id, T0)
    second = open_ticket(ports, box, "wamid.R2", 60)
    assert second is not None
    # When the first is reopened, it is refused: the conversation has its open ticket
    assert ports.tickets.reopen(first, box.conversation_id) is False
    refused = ports.reader.ticket(first)
    assert refused is not None and refused.status is TicketStatus.CLOSED
    # Once the second is closed, the first reopens, holds the conversation, and shows no closing time
    ports.tickets.close(second, box.conversation_id, T0)
    assert ports.tickets.reopen(first, box.conversation_id) is True
    reopened = ports.reader.ticket(first)
    assert reopened is not None and reopened.status is TicketStatus.OPEN and reopened.closed_at is None
    assert ports.tickets.open_ticket_id(box.conversation_id) == first
    # And reopening an open ticket changes nothing
    assert ports.tickets.reopen(first, box.conversation_id) is False


def test_closing_with_another_conversation_changes_nothing(ports: Ports) -> None:
    # Given an open ticket
    box = inbox(ports)
    ticket_id = open_ticket(ports, box, "wamid.W")
    assert ticket_id is not None
    # When it is closed naming a conversation it does not hold
    ports.tickets.close(ticket_id, conversation_id_for("someone-else", box.connection.id), T0)
    # Then it stays open and still holds its conversation
    ticket = ports.reader.ticket(ticket_id)
    assert ticket is not None and ticket.status is TicketStatus.OPEN
    assert ports.tickets.open_ticket_id(box.conversation_id) == ticket_id


def test_touch_moves_an_open_window_forward_only(ports: Ports) -> None:
    # Given an open ticket whose window ends 24 h after 100 s
    box = inbox(ports)
    ticket_id = open_ticket(ports, box, "wamid.TW", 100)
    assert ticket_id is not None
    # When an older message, then a newer one, touch it
    ports.tickets.touch(ticket_id, at(50), at(50) + TICKET_WINDOW)
    older = ports.reader.ticket(ticket_id)
    ports.tickets.touch(ticket_id, at(500), at(500) + TICKET_WINDOW)
    newer = ports.reader.ticket(ticket_id)
    # Then the older one leaves it, the newer one moves it
    assert older is not None and older.message_window_expires_at == at(100) + TICKET_WINDOW
    assert newer is not None and newer.message_window_expires_at == at(500) + TICKET_WINDOW


def test_touch_keeps_a_null_window_null(ports: Ports) -> None:
    # Given a history lead's ticket without window
    box = inbox(ports, source=LeadSource.HISTORY_SYNC)
    ticket_id = open_ticket(ports, box, "wamid.NW", origin=TicketOrigin.HISTORY_LEAD, windowless=True)
    assert ticket_id is not None
    # When a later message touches it
    ports.tickets.touch(ticket_id, at(100), at(100) + TICKET_WINDOW)
    # Then the window stays null while the last message time moves
    ticket = ports.reader.ticket(ticket_id)
    assert ticket is not None
    assert (ticket.message_window_expires_at, ticket.last_message_at) == (None, at(100))


def test_touch_never_moves_the_window_of_a_closed_ticket(ports: Ports) -> None:
    # Given a closed ticket with a window
    box = inbox(ports)
    ticket_id = open_ticket(ports, box, "wamid.CW")
    assert ticket_id is not None
    ports.tickets.close(ticket_id, box.conversation_id, T0)
    # When a later message touches it
    ports.tickets.touch(ticket_id, at(100), at(100) + TICKET_WINDOW)
    # Then its window is unchanged
    ticket = ports.reader.ticket(ticket_id)
    assert ticket is not None and ticket.message_window_expires_at == T0 + TICKET_WINDOW


def test_touch_moves_the_last_message_time_forward_only(ports: Ports) -> None:
    # Given an open ticket last touched at 100 s
    box = inbox(ports)
    ticket_id = open_ticket(ports, box, "wamid.LM", 100)
    assert ticket_id is not None
    # When an older message touches it
    ports.tickets.touch(ticket_id, at(10), at(10) + TICKET_WINDOW)
    # Then its last message time stays
    ticket = ports.reader.ticket(ticket_id)
    assert ticket is not None and ticket.last_message_at == at(100)


def test_a_refused_open_says_why(ports: Ports) -> None:
    # Given a ticket opened by a message, still open
    box = inbox(ports)
    first = opening(ports, box, "wamid.WHY1")
    # When another message tries to open one, and the first message is redelivered
    other = opening(ports, box, "wamid.WHY2", 60)
    again = opening(ports, box, "wamid.WHY1")
    # Then the first opened it; the other met the open ticket; the redelivery met its own opening
    assert first.outcome is OpenOutcome.OPENED and first.ticket_id is not None
    assert (other.outcome, other.ticket_id) == (OpenOutcome.CONVERSATION_HAS_ONE, None)
    assert (again.outcome, again.ticket_id) == (OpenOutcome.MESSAGE_OPENED_ONE, None)


def test_a_redelivered_opening_message_is_refused_as_such_after_the_close(ports: Ports) -> None:
    # Given a ticket opened by a message, then closed
    box = inbox(ports)
    first = open_ticket(ports, box, "wamid.WHY3")
    assert first is not None
    ports.tickets.close(first, box.conversation_id, T0)
    # When that message is redelivered
    again = opening(ports, box, "wamid.WHY3")
    # Then it is refused because it opened one already (not because a ticket is open: none is)
    assert again.outcome is OpenOutcome.MESSAGE_OPENED_ONE
    assert ports.tickets.open_ticket_id(box.conversation_id) is None


def test_meta_window_follows_the_latest_live_message_even_without_a_product_window(ports: Ports) -> None:
    # Given a history lead's ticket (no product window) opened by a live message at 100 s
    box = inbox(ports, source=LeadSource.HISTORY_SYNC)
    ticket_id = open_ticket(ports, box, "wamid.SW", 100, origin=TicketOrigin.HISTORY_LEAD, windowless=True)
    assert ticket_id is not None
    opened = ports.reader.ticket(ticket_id)
    assert opened is not None and opened.message_window_expires_at is None
    assert opened.customer_service_window_ends_at == at(100) + CUSTOMER_SERVICE_WINDOW
    # When an older live message, then a newer one, arrive
    ports.tickets.touch(ticket_id, at(50), at(50) + TICKET_WINDOW)
    older = ports.reader.ticket(ticket_id)
    ports.tickets.touch(ticket_id, at(900), at(900) + TICKET_WINDOW)
    newer = ports.reader.ticket(ticket_id)
    # Then Meta's window ends 24 h after the latest, whatever order they came in
    assert older is not None and older.customer_service_window_ends_at == at(100) + CUSTOMER_SERVICE_WINDOW
    assert newer is not None and newer.customer_service_window_ends_at == at(900) + CUSTOMER_SERVICE_WINDOW
    assert newer.message_window_expires_at is None
