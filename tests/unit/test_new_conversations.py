"""Issue 22 (§7a): leads and conversations the business starts: one lead per person, one open ticket
per conversation, a live customer's ticket answered rather than a second one opened."""

from __future__ import annotations

import pytest

from tests.builders import payloads as b
from tests.fakes import Clock, InMemoryWorld
from whatrack.domain.errors import InvalidInputError, NotFoundError
from whatrack.domain.inbox import LeadSource, TicketOrigin, TicketSource

T0 = 1_764_158_400


@pytest.fixture
def world() -> InMemoryWorld:
    return InMemoryWorld(clock=Clock())


def test_a_lead_is_created_once_whatever_form_of_the_number(world: InMemoryWorld) -> None:
    connection = world.connect()
    service = world.new_conversations()
    first = service.create_lead(connection.organization_id, "+55 11 98888-0002", "Bia")
    # Brazil's ninth digit: the same mobile written without it is the same person (§8.10)
    again = service.create_lead(connection.organization_id, "551188880002", None)
    assert first.created and not again.created and again.lead.id == first.lead.id
    assert (first.lead.source, first.lead.push_name) == (LeadSource.DIRECT_CREATION, "Bia")
    with pytest.raises(InvalidInputError):
        service.create_lead(connection.organization_id, "0000", None)
    # another organization's same number is its own lead
    other = world.connect(phone_number_id="509900000000092", waba_id="609900000000092")
    assert service.create_lead(other.organization_id, "+5511988880002", None).lead.id != first.lead.id


def test_a_conversation_with_a_customer_who_has_a_live_ticket_answers_that_ticket(world: InMemoryWorld) -> None:
    connection = world.connect()
    world.deliver(b.live("wamid.NC1", "5511977770003", T0))
    [lead] = world.reader.leads(connection.organization_id, limit=10, cursor=None).items
    service = world.new_conversations()
    opened = service.open_ticket(connection.organization_id, lead.id, connection.id, TicketSource.MANUAL)
    assert not opened.created and opened.ticket.source == "incoming_message"
    # once it is closed, the agent's open makes a new one, with no product or Meta window of its own
    world.tickets.close(opened.ticket.id, opened.ticket.conversation_id, world.clock())
    manual = service.open_ticket(connection.organization_id, lead.id, connection.id, TicketSource.MANUAL)
    assert manual.created and manual.ticket.id != opened.ticket.id
    assert (manual.ticket.source, manual.ticket.originated_from) == ("manual", TicketOrigin.EXISTING)
    assert manual.ticket.message_window_expires_at is None and manual.ticket.customer_service_window_ends_at is None


def test_another_organizations_lead_or_number_is_not_found(world: InMemoryWorld) -> None:
    connection = world.connect()
    other = world.connect(phone_number_id="509900000000093", waba_id="609900000000093")
    service = world.new_conversations()
    lead = service.create_lead(connection.organization_id, "+5511966660004", None).lead
    with pytest.raises(NotFoundError):
        service.open_ticket(other.organization_id, lead.id, other.id, TicketSource.API)
    with pytest.raises(NotFoundError):
        service.open_ticket(connection.organization_id, lead.id, other.id, TicketSource.API)
    with pytest.raises(NotFoundError):
        service.open_ticket(connection.organization_id, "x" * 300, connection.id, TicketSource.API)
