"""Port contract of §8.10 (one person, one lead): the merge steps, on the fakes and on DynamoDB alike."""

from __future__ import annotations

import pytest

from tests.integration.contracts.support import (
    T0,
    Inbox,
    Ports,
    at,
    connect,
    message,
    open_ticket,
    phone,
    unique_number,
)
from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import LeadSource, ResolvedLead, TicketStatus, conversation_id_for, merge_order


def two_leads(ports: Ports) -> tuple[str, str, str, ContactIdentity]:
    """An organization with a lead by phone (older) and one by user id; (org, phone lead, user lead, both ids)."""
    organization_id = new_id()
    number, user_id = unique_number(), f"BR.{new_id()}"
    by_phone = ports.leads.resolve(organization_id, phone(number), LeadSource.STATE_SYNC, T0).lead
    by_user = ports.leads.resolve(
        organization_id, ContactIdentity.of(user_id=user_id), LeadSource.HISTORY_SYNC, at(1)
    ).lead
    return organization_id, by_phone.id, by_user.id, ContactIdentity.of(wa_id=number, user_id=user_id)


def test_resolve_reports_the_second_lead_a_phone_and_a_user_id_reach(ports: Ports) -> None:
    # Given a lead by phone and another by user id
    organization_id, by_phone, by_user, both = two_leads(ports)
    # When both ids are resolved together
    resolved = ports.leads.resolve(organization_id, both, LeadSource.LIVE_MESSAGE, at(2))
    # Then the phone's lead is found and the user id's is reported, nothing linked
    assert resolved.created is False and resolved.lead.id == by_phone
    assert resolved.other is not None and resolved.other.id == by_user
    assert resolved.lead.user_id is None


def test_a_retired_lead_redirects_and_leaves_the_list(ports: Ports) -> None:
    # Given two leads of one person, the newer retired into the older
    organization_id, by_phone, by_user, both = two_leads(ports)
    ports.leads.update(by_user, has_history=True, message_at=at(5))
    retired = ports.leads.retire(by_user, by_phone)
    # Then its state is given back, a second retire into the same lead repeats it, another lead is refused
    assert retired is not None and retired.lead.id == by_user and retired.lead.has_history
    assert ports.leads.retire(by_user, by_phone) is not None
    assert ports.leads.retire(by_user, new_id()) is None
    assert ports.leads.retire(new_id(), by_phone) is None
    # And its id reaches the survivor, and only the survivor is listed
    found = ports.reader.lead(by_user)
    assert found is not None and found.id == by_phone
    listed = ports.reader.leads(organization_id, limit=50, cursor=None).items
    assert [lead.id for lead in listed] == [by_phone]
    # And resolving both ids reports the retired lead after its survivor (a merge to finish)
    resolved = ports.leads.resolve(organization_id, both, LeadSource.LIVE_MESSAGE, at(2))
    assert (resolved.lead.id, resolved.other.id if resolved.other else None) == (by_phone, by_user)


def test_retire_marks_the_survivor_absorbing_in_the_same_write(ports: Ports) -> None:
    # Given two leads of one person
    organization_id, by_phone, by_user, both = two_leads(ports)
    phone_alone = ContactIdentity.of(wa_id=both.wa_id)
    # When the newer is retired into the older
    assert ports.leads.retire(by_user, by_phone) is not None
    # Then a resolve of the survivor's id alone sees the merge in progress (on the lead item it reads)
    resolved = ports.leads.resolve(organization_id, phone_alone, LeadSource.LIVE_MESSAGE, at(2))
    assert (resolved.lead.id, resolved.lead.absorbing, resolved.other) == (by_phone, by_user, None)
    assert ports.reader.lead(by_user) == resolved.lead
    # And the retired lead is never marked itself
    retired = ports.leads.retire(by_user, by_phone)
    assert retired is not None and (retired.lead.merged_into, retired.lead.absorbing) == (by_phone, None)


def test_retire_is_refused_whole_while_either_lead_is_in_another_merge(ports: Ports) -> None:
    # Given a survivor absorbing one lead (a merge not finished), and a third lead of the organization
    organization_id, by_phone, by_user, _ = two_leads(ports)
    third = ports.leads.resolve(organization_id, phone(unique_number()), LeadSource.STATE_SYNC, at(3)).lead.id
    assert ports.leads.retire(by_user, by_phone) is not None
    # Then no other lead can be retired into it, it cannot be retired while absorbing,
    # a retired lead cannot absorb, and a lead that does not exist can absorb nothing
    assert ports.leads.retire(third, by_phone) is None
    assert ports.leads.retire(by_phone, third) is None
    assert ports.leads.retire(third, by_user) is None
    assert ports.leads.retire(third, new_id()) is None
    # And each refusal wrote nothing: the third lead is neither retired nor absorbing, and is listed
    lead = ports.reader.lead(third)
    assert lead is not None and (lead.id, lead.merged_into, lead.absorbing) == (third, None, None)
    survivor = ports.reader.lead(by_phone)
    assert survivor is not None and (survivor.merged_into, survivor.absorbing) == (None, by_user)
    listed = {lead.id for lead in ports.reader.leads(organization_id, limit=50, cursor=None).items}
    assert listed == {by_phone, third}
    # And once that merge is over, the survivor can absorb the third
    ports.leads.end_merge(by_phone, by_user)
    assert ports.leads.retire(third, by_phone) is not None


def test_end_merge_removes_only_that_merges_mark(ports: Ports) -> None:
    # Given a survivor absorbing a retired lead
    organization_id, by_phone, by_user, both = two_leads(ports)
    ports.leads.retire(by_user, by_phone)
    # When another merge's end is recorded on it, and one on a lead that does not exist
    ports.leads.end_merge(by_phone, new_id())
    missing = new_id()
    ports.leads.end_merge(missing, by_user)
    # Then its mark stays, and nothing was written for the missing lead
    survivor = ports.reader.lead(by_phone)
    assert survivor is not None and survivor.absorbing == by_user
    assert ports.reader.lead(missing) is None
    # When this merge's end is recorded (twice)
    ports.leads.end_merge(by_phone, by_user)
    ports.leads.end_merge(by_phone, by_user)
    # Then the mark is gone and the retired lead stays retired
    resolved = ports.leads.resolve(organization_id, ContactIdentity.of(wa_id=both.wa_id), LeadSource.LIVE_MESSAGE, T0)
    assert (resolved.lead.id, resolved.lead.absorbing, resolved.other) == (by_phone, None, None)
    found = ports.reader.lead(by_user)
    assert found is not None and found.id == by_phone


def test_an_update_of_a_retired_lead_reaches_its_survivor(ports: Ports) -> None:
    # Given a retired lead
    _, by_phone, by_user, _ = two_leads(ports)
    ports.leads.retire(by_user, by_phone)
    # When a late writer flags its history and its last message
    ports.leads.update(by_user, has_history=True, message_at=at(9))
    # Then the survivor has them
    survivor = ports.reader.lead(by_phone)
    assert survivor is not None and (survivor.has_history, survivor.last_message_at) == (True, at(9))


def test_absorb_joins_what_the_merged_lead_knew_and_repeats_safely(ports: Ports) -> None:
    # Given a synced contact (survivor) and a history lead with its last message and a name
    _, by_phone, by_user, both = two_leads(ports)
    ports.leads.update(by_phone, synced_at=at(3), active=True)
    ports.leads.update(by_user, has_history=True, message_at=at(7), push_name="Ana")
    retired = ports.leads.retire(by_user, by_phone)
    assert retired is not None
    # When the survivor absorbs it, twice
    first = ports.leads.absorb(by_phone, retired)
    again = ports.leads.absorb(by_phone, retired)
    # Then it has both ids, the history flag, the later message and the name, the same both times
    lead = again.lead
    assert first.lead == lead and lead.id == by_phone and lead.source is LeadSource.STATE_SYNC
    assert (lead.phone_number, lead.user_id) == (both.phone, both.user_id)
    assert (lead.has_history, lead.last_message_at, lead.push_name, lead.last_synced_at) == (True, at(7), "Ana", at(3))


def test_repoint_moves_the_guards_of_the_merged_lead(ports: Ports) -> None:
    # Given two leads of one person, merged
    organization_id, by_phone, by_user, both = two_leads(ports)
    ports.leads.retire(by_user, by_phone)
    # When the guards are pointed at the survivor
    ports.leads.repoint(organization_id, [both], by_user, by_phone)
    # Then either id alone resolves to the survivor, with no second lead to report
    for identity in (ContactIdentity.of(user_id=both.user_id), ContactIdentity.of(wa_id=both.wa_id), both):
        resolved = ports.leads.resolve(organization_id, identity, LeadSource.LIVE_MESSAGE, at(5))
        assert (resolved.lead.id, resolved.other) == (by_phone, None)


def test_merge_order_keeps_the_older_lead_or_the_one_already_chosen(ports: Ports) -> None:
    # Given two leads, the phone's older
    organization_id, by_phone, by_user, both = two_leads(ports)
    resolved = ports.leads.resolve(organization_id, both, LeadSource.LIVE_MESSAGE, at(2))
    assert resolved.other is not None
    # Then the older survives whichever is given first
    survivor, merged = merge_order(resolved.lead, resolved.other)
    assert (survivor.id, merged.id) == (by_phone, by_user)
    assert merge_order(resolved.other, resolved.lead) == (survivor, merged)


def _conversations(ports: Ports) -> tuple[Inbox, str, str]:
    """A connection, a survivor with a conversation there and a merged lead's conversation with 2 messages."""
    connection = connect(ports)
    org = connection.organization_id
    survivor = ports.leads.resolve(org, phone(unique_number()), LeadSource.STATE_SYNC, T0)
    merged = ports.leads.resolve(org, ContactIdentity.of(user_id=f"BR.{new_id()}"), LeadSource.LIVE_MESSAGE, at(1))
    source = ports.conversations.ensure(org, merged.lead.id, connection.id, T0, at(2))
    ports.messages.insert(org, connection.id, source, message("wamid.M1", 1), history=True)
    ports.messages.insert(org, connection.id, source, message("wamid.M2", 2), history=True)
    target = conversation_id_for(survivor.lead.id, connection.id)
    return Inbox(connection, merged, source), survivor.lead.id, target


def test_a_retired_conversation_leaves_the_lists_and_refuses_messages(ports: Ports) -> None:
    # Given a merged lead's conversation with two messages
    box, survivor, target = _conversations(ports)
    org, connection_id = box.organization_id, box.connection.id
    # When it is retired into the survivor's
    retired = ports.conversations.retire(box.conversation_id, target)
    # Then its state is given back (a repeat too; a missing conversation gives None)
    assert retired is not None and (retired.message_count, retired.last_message_at) == (2, at(2))
    assert ports.conversations.retire(box.conversation_id, target) is not None
    assert ports.conversations.retire(new_id(), target) is None
    # And it is in no list, its upsert changes nothing, and a message counted into it is refused for retry
    assert ports.reader.conversations_of(box.lead.lead.id) == []
    ports.conversations.ensure(org, box.lead.lead.id, connection_id, T0, at(50))
    assert ports.reader.conversations_of(box.lead.lead.id) == []
    with pytest.raises(TransientError):
        ports.messages.insert(org, connection_id, box.conversation_id, message("wamid.LATE", 3))
    listed = ports.reader.leads(org, limit=9, cursor=None, connection_id=connection_id).items
    assert survivor and listed == []


def test_move_takes_every_message_with_its_count_once(ports: Ports) -> None:
    # Given a retired conversation with two messages and the survivor's, ensured
    box, survivor, target = _conversations(ports)
    ports.conversations.retire(box.conversation_id, target)
    ports.conversations.ensure(box.organization_id, survivor, box.connection.id, T0, at(2))
    # When its messages move, twice
    moved = ports.messages.move(box.connection.id, box.conversation_id, target)
    again = ports.messages.move(box.connection.id, box.conversation_id, target)
    # Then both moved once, counted on the survivor's conversation, listed there in order
    assert (moved, again) == (2, 0)
    [conversation] = ports.reader.conversations_of(survivor)
    assert (conversation.id, conversation.message_count) == (target, 2)
    assert [m.id for m in ports.reader.all_messages(target)] == ["wamid.M1", "wamid.M2"]
    assert ports.reader.all_messages(box.conversation_id) == []
    listed = ports.reader.leads(box.organization_id, limit=9, cursor=None, connection_id=box.connection.id).items
    assert [lead.id for lead in listed] == [survivor]


def test_a_ticket_cannot_be_opened_on_a_retired_lead(ports: Ports) -> None:
    # Given a retired lead
    box, survivor, _ = _conversations(ports)
    ports.leads.retire(box.lead.lead.id, survivor)
    # When a late live message tries to open its ticket
    # Then it is refused for retry (the retry resolves the survivor)
    with pytest.raises(TransientError):
        open_ticket(ports, box, "wamid.T1")


def test_reassign_moves_the_open_ticket_or_closes_it_beside_the_survivors(ports: Ports) -> None:
    # Given a merged lead with an open ticket, and a survivor with none on that connection
    box, survivor, target = _conversations(ports)
    ticket_id = open_ticket(ports, box, "wamid.T1")
    assert ticket_id is not None
    ports.leads.retire(box.lead.lead.id, survivor)
    # When its tickets follow it (twice)
    for _ in range(2):
        ports.tickets.reassign(box.connection.id, box.conversation_id, target, box.lead.lead.id, survivor)
    # Then the ticket is the survivor's, still open, holding the survivor's conversation
    ticket = ports.reader.ticket(ticket_id)
    assert ticket is not None and (ticket.lead_id, ticket.conversation_id) == (survivor, target)
    assert ticket.status is TicketStatus.OPEN
    assert (ports.tickets.open_ticket_id(target), ports.tickets.open_ticket_id(box.conversation_id)) == (
        ticket_id,
        None,
    )


def test_reassign_closes_the_merged_leads_open_ticket_when_the_survivor_has_one(ports: Ports) -> None:
    # Given a merged lead and its survivor, each with an open ticket on the connection
    box, survivor, target = _conversations(ports)
    mine = open_ticket(ports, box, "wamid.T1")
    survivor_lead = ports.reader.lead(survivor)
    assert survivor_lead is not None
    ports.conversations.ensure(box.organization_id, survivor, box.connection.id, T0, None)
    theirs = open_ticket(ports, Inbox(box.connection, ResolvedLead(survivor_lead, created=False), target), "wamid.T2")
    ports.leads.retire(box.lead.lead.id, survivor)
    # When the merged lead's tickets follow it
    ports.tickets.reassign(box.connection.id, box.conversation_id, target, box.lead.lead.id, survivor)
    # Then the survivor's stays open, the merged lead's is closed, and both are the survivor's
    assert ports.tickets.open_ticket_id(target) == theirs
    closed = ports.reader.ticket(mine or "")
    assert closed is not None and (closed.status, closed.lead_id, closed.conversation_id) == (
        TicketStatus.CLOSED,
        survivor,
        target,
    )
