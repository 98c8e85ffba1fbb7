"""CONTRACT §8.1-8.4 and decisions D1-D5 on the in-memory world: signed bodies → ingest → consumers.

The fast twin of ``tests/integration/test_pipeline_rules.py``; the fakes behave like the DynamoDB
adapters (``tests/integration/test_port_contracts.py`` keeps them honest). The other rules are in
``test_rules_sync.py`` (§8.5-8.6), ``test_rules_messages.py`` (§8.7-8.9) and
``test_rules_identity.py`` (identity, failures, unmatched changes, every reference shape).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.builders import payloads as b
from tests.unit.onboarding import CUSTOMER, OTHER, T0, Onboarded, at
from whatrack.domain.changes import ChangeMessage
from whatrack.domain.connections import HistorySyncStatus
from whatrack.domain.inbox import TICKET_WINDOW, LeadSource, TicketOrigin, TicketStatus
from whatrack.domain.messages import Direction, MessageSource


@pytest.fixture
def ob() -> Onboarded:
    return Onboarded.connect()


# ---------------------------------------------------------------- §8.1 uniqueness per (connection, wamid)
def test_rule_8_1_replays_duplicate_chunks_and_live_overlap_never_duplicate(ob: Onboarded) -> None:
    # Given a chunk of two messages, delivered twice
    history = b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text("wamid.A", CUSTOMER, T0), b.text("wamid.B", b.BIZ, T0 + 5)))
    ob.deliver(history, history)
    # When live traffic repeats one of them and the chunk comes a third time
    ob.deliver(b.live("wamid.B", CUSTOMER, T0 + 5))
    ob.deliver(history)
    # Then each wamid is stored once and counted once
    assert sorted(ob.messages()) == ["wamid.A", "wamid.B"]
    state = ob.state().history
    assert (state.messages_imported, state.threads_imported) == (2, 1)
    [conversation] = ob.world.reader.conversations_of(ob.lead().id)
    assert conversation.message_count == 2


# ---------------------------------------------------------------- §8.2 / D1 no tickets, no windows from history
def test_rule_8_2_and_d1_history_contacts_and_echoes_never_create_tickets(ob: Onboarded) -> None:
    # Given nothing but contacts, a completed history chunk and App echoes (one to an unknown number)
    ob.deliver(
        b.contacts(("add", CUSTOMER, "Maria Silva")),
        b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.H1", CUSTOMER, T0))),
        b.echo("wamid.E1", CUSTOMER, T0 + 100),
        b.echo("wamid.E2", OTHER, T0 + 200),
    )
    # Then both people are leads, the sync completed, and no ticket (so no window) exists
    assert ob.tickets() == []
    assert sorted(lead.phone_number or "" for lead in ob.leads()) == ["+" + CUSTOMER, "+" + OTHER]
    assert ob.state().history.status is HistorySyncStatus.COMPLETED


# ---------------------------------------------------------------- §8.3 / D2 tickets from live traffic only
def test_rule_8_3_and_d2_history_lead_gets_a_ticket_without_window(ob: Onboarded) -> None:
    # Given a lead known from history
    ob.deliver(b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.H1", CUSTOMER, T0))))
    # When the lead writes live
    ob.deliver(b.live("wamid.L1", CUSTOMER, T0 + 86400))
    # Then one open history-lead ticket without window is opened, and counted on the connection
    ticket = ob.ticket()
    assert (ticket.originated_from, ticket.message_window_expires_at) == (TicketOrigin.HISTORY_LEAD, None)
    assert (ticket.source, ticket.status) == ("incoming_message", TicketStatus.OPEN)
    assert ob.state().history_lead_tickets == 1


def test_rule_8_3_a_live_message_on_an_open_ticket_keeps_a_null_window_null(ob: Onboarded) -> None:
    # Given a history lead's open ticket (no window)
    ob.deliver(b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.H1", CUSTOMER, T0))))
    ob.deliver(b.live("wamid.L1", CUSTOMER, T0 + 86400))
    # When another live message arrives
    ob.deliver(b.live("wamid.L2", CUSTOMER, T0 + 90000))
    # Then no ticket is added, the window stays null and the ticket's last message moves
    ticket = ob.ticket()
    assert ticket.message_window_expires_at is None and ticket.last_message_at == at(T0 + 90000)


def test_rule_8_14_meta_window_follows_live_inbound_messages_only(ob: Onboarded) -> None:
    # Given a history lead (history never opens Meta's window), with an App echo and a history reply
    ob.deliver(b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.H1", CUSTOMER, T0))))
    # When the customer writes live, then the business answers from the App, then a late live
    # message (sent earlier) is delivered, then a newer one
    ob.deliver(b.live("wamid.L1", CUSTOMER, T0 + 86400))
    ob.deliver(b.echo("wamid.E1", CUSTOMER, T0 + 90000))
    ob.deliver(b.live("wamid.L0", CUSTOMER, T0 + 86000))
    after_echo = ob.ticket().customer_service_window_ends_at
    ob.deliver(b.live("wamid.L2", CUSTOMER, T0 + 95000))
    # Then Meta's window ends 24 h after the latest live inbound message; the echo never moved it
    assert after_echo == at(T0 + 86400 + 86400)
    assert ob.ticket().customer_service_window_ends_at == at(T0 + 95000 + 86400)
    assert ob.ticket().message_window_expires_at is None  # the product's rule stays its own


def test_rule_8_3_contact_synced_lead_with_history_is_a_history_lead(ob: Onboarded) -> None:
    # Given a contact that history then shows
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")))
    ob.deliver(b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.H", CUSTOMER, T0))))
    lead = ob.lead()
    assert (lead.source, lead.has_history) == (LeadSource.STATE_SYNC, True)
    # When the lead writes live
    ob.deliver(b.live("wamid.L", CUSTOMER, T0 + 10))
    # Then the ticket is a history lead's
    assert ob.ticket().originated_from is TicketOrigin.HISTORY_LEAD


def test_rule_8_3_new_contact_gets_a_24h_window(ob: Onboarded) -> None:
    # Given nobody known
    # When a new number writes live
    ob.deliver(b.live("wamid.N1", OTHER, T0))
    # Then a new-contact ticket with a 24 h window opens, and the lead comes from live traffic
    ticket = ob.ticket()
    assert (ticket.originated_from, ticket.message_window_expires_at) == (
        TicketOrigin.NEW_CONTACT,
        at(T0) + TICKET_WINDOW,
    )
    lead = ob.lead()
    assert (lead.source, lead.push_name) == (LeadSource.LIVE_MESSAGE, "Cliente")


def test_rule_8_3_existing_lead_gets_existing_and_its_window_moves_forward_only(ob: Onboarded) -> None:
    # Given a contact without history who writes live
    ob.deliver(b.contacts(("add", OTHER, "Joana")))
    ob.deliver(b.live("wamid.X1", OTHER, T0))
    ticket = ob.ticket()
    assert (ticket.originated_from, ticket.message_window_expires_at) == (TicketOrigin.EXISTING, at(T0) + TICKET_WINDOW)
    # When a later message arrives, then an older one late
    ob.deliver(b.live("wamid.X2", OTHER, T0 + 3600))
    moved = ob.ticket().message_window_expires_at
    ob.deliver(b.live("wamid.X0", OTHER, T0 - 3600))
    # Then the window moves to the later message + 24 h and never back
    assert moved == ob.ticket().message_window_expires_at == at(T0 + 3600) + TICKET_WINDOW


def test_rule_8_3_a_live_lead_whose_ticket_was_closed_gets_an_existing_ticket(ob: Onboarded) -> None:
    # Given a new contact's ticket, closed by an agent
    ob.deliver(b.live("wamid.Y1", OTHER, T0))
    first = ob.ticket()
    ob.world.queries().close_ticket(ob.connection.organization_id, first.id)
    # When the lead writes again
    ob.deliver(b.live("wamid.Y2", OTHER, T0 + 600))
    # Then a second ticket opens: the lead existed before this message
    [second] = [t for t in ob.tickets() if t.id != first.id]
    assert (second.originated_from, second.status) == (TicketOrigin.EXISTING, TicketStatus.OPEN)
    assert second.message_window_expires_at == at(T0 + 600) + TICKET_WINDOW


def test_rule_8_3_a_message_arriving_while_its_ticket_is_closed_gets_a_new_ticket(
    ob: Onboarded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a new contact's open ticket
    ob.deliver(b.live("wamid.C1", OTHER, T0))
    first = ob.ticket()
    tickets = ob.world.tickets
    open_ticket = tickets.open
    closed: list[str] = []

    def agent_closes_meanwhile(**kwargs: Any) -> Any:
        """The open meets the conversation's open ticket; the agent closes it before anything else is read."""
        held = tickets.open_ticket_id(kwargs["conversation_id"])
        result = open_ticket(**kwargs)
        if held is not None and not closed:
            ob.world.queries().close_ticket(ob.connection.organization_id, held)
            closed.append(held)
        return result

    monkeypatch.setattr(tickets, "open", agent_closes_meanwhile)
    # When the lead writes while the agent closes that ticket
    ob.deliver(b.live("wamid.C2", OTHER, T0 + 600))
    # Then the message gets a new open ticket (§8.3: no open ticket in the conversation)
    assert closed == [first.id]
    [second] = [t for t in ob.tickets() if t.id != first.id]
    assert (second.originated_from, second.status) == (TicketOrigin.EXISTING, TicketStatus.OPEN)
    assert second.message_window_expires_at == at(T0 + 600) + TICKET_WINDOW


def test_rule_8_3_redelivered_live_message_creates_no_second_ticket(ob: Onboarded) -> None:
    # Given a live message
    message = b.live("wamid.R1", OTHER, T0)
    # When it is delivered three times
    ob.deliver(message, message, message)
    # Then one ticket and one message exist
    assert len(ob.tickets()) == 1 and list(ob.messages()) == ["wamid.R1"]


def test_rule_8_3_parallel_deliveries_of_a_new_lead_give_one_ticket(ob: Onboarded) -> None:
    # Given eight live messages of a new number, routed at once
    for i in range(8):
        ob.world.post(b.live(f"wamid.PAR{i}", OTHER, T0 + i))
    routed = ob.world.publisher.sent[-8:]
    barrier = threading.Barrier(len(routed))

    def consume(message: ChangeMessage) -> None:
        barrier.wait()
        ob.world.consumer().consume(message)

    # When eight consumers process them concurrently
    with ThreadPoolExecutor(max_workers=len(routed)) as pool:
        list(pool.map(consume, routed))
    # Then there is one lead, every message, and one new-contact ticket whose window follows the latest
    ticket = ob.ticket()
    assert len(ob.leads()) == 1 and len(ob.messages()) == 8
    assert (ticket.originated_from, ticket.message_window_expires_at) == (
        TicketOrigin.NEW_CONTACT,
        at(T0 + 7) + TICKET_WINDOW,
    )


# ---------------------------------------------------------------- §8.4 direction
def test_rule_8_4_direction_from_business_number_and_missing_from(ob: Onboarded) -> None:
    # Given a history thread with the customer's, the business's (formatted) and a sender-less message
    ob.deliver(
        b.chunk(
            1,
            1,
            40,
            b.thread(
                CUSTOMER,
                b.text("wamid.IN", CUSTOMER, T0),
                b.text("wamid.OUT", "+54 9 11 5555-0100", T0 + 1),
                b.text("wamid.NOFROM", None, T0 + 2, from_user_id="AR.1"),
            ),
        )
    )
    # Then only the business number's message is outbound
    messages = ob.messages()
    assert {wamid: m.direction for wamid, m in messages.items()} == {
        "wamid.IN": Direction.INBOUND,
        "wamid.OUT": Direction.OUTBOUND,
        "wamid.NOFROM": Direction.INBOUND,
    }
    inbound = messages["wamid.IN"]
    assert (inbound.source, inbound.history_status, inbound.timestamp) == (MessageSource.HISTORY, "READ", at(T0))


# ---------------------------------------------------------------- D3 source on lead, message, ticket
def test_d3_source_on_lead_message_and_ticket(ob: Onboarded) -> None:
    # Given a history message and then a live one of the same person
    ob.deliver(
        b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.D3H", CUSTOMER, T0))), b.live("wamid.D3L", CUSTOMER, T0 + 5)
    )
    # Then each record says where it came from
    messages = ob.messages()
    assert (messages["wamid.D3H"].source, messages["wamid.D3L"].source) == (MessageSource.HISTORY, MessageSource.LIVE)
    assert ob.lead().source is LeadSource.HISTORY_SYNC
    assert (ob.ticket().source, ob.ticket().originated_from) == ("incoming_message", TicketOrigin.HISTORY_LEAD)


# ---------------------------------------------------------------- D4 processing order, D5 idempotency
def test_d4_expected_order_contacts_history_live(ob: Onboarded) -> None:
    # Given contacts, then history, then live traffic of one person
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")))
    ob.deliver(b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.O1", CUSTOMER, T0))))
    ob.deliver(b.live("wamid.O2", CUSTOMER, T0 + 1_050))  # after the contact change (T0 + 1,000)
    # Then the contact's lead holds the history and the live (later) name, and its ticket is a history lead's
    lead = ob.lead()
    assert (lead.source, lead.has_history, lead.push_name) == (LeadSource.STATE_SYNC, True, "Cliente")
    assert lead.last_message_at == at(T0 + 1_050)
    assert ob.ticket().originated_from is TicketOrigin.HISTORY_LEAD


def test_d5_idempotency_on_wamid_across_every_path(ob: Onboarded) -> None:
    # Given the same wamids through history, live and echoes, each delivered twice
    docs = [
        b.chunk(1, 1, 100, b.thread(CUSTOMER, b.text("wamid.I", CUSTOMER, T0))),
        b.live("wamid.I", CUSTOMER, T0),
        b.echo("wamid.J", CUSTOMER, T0),
        b.echo("wamid.J", CUSTOMER, T0),
    ]
    ob.deliver(*docs, *docs)
    # Then each wamid is one message, and the history one kept its history source
    messages = ob.messages()
    assert sorted(messages) == ["wamid.I", "wamid.J"]
    assert (messages["wamid.I"].source, messages["wamid.J"].source) == (MessageSource.HISTORY, MessageSource.APP_ECHO)
