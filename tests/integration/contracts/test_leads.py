"""Port contract: Leads, their identity guards and their conversations."""

from __future__ import annotations

from tests.integration.contracts.support import (
    T0,
    Ports,
    at,
    connect,
    inbox,
    open_ticket,
    phone,
    unique_number,
)
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import (
    LeadSource,
    conversation_id_for,
)


# =========================================================================== leads
def test_a_phone_in_any_notation_resolves_to_one_lead(ports: Ports) -> None:
    # Given a lead created from the nine-digit Brazilian number
    organization_id = new_id()
    number = unique_number()
    first = ports.leads.resolve(organization_id, phone(number), LeadSource.STATE_SYNC, T0)
    # When the old eight-digit form of that mobile is resolved
    eight_digit = number[:4] + number[5:]
    second = ports.leads.resolve(organization_id, phone(eight_digit), LeadSource.HISTORY_SYNC, at(1))
    # Then it is the same lead, found, not created
    assert (first.created, second.created) == (True, False)
    assert second.lead == first.lead
    assert first.lead.phone_number == "+" + number


def test_a_user_id_resolves_to_one_lead(ports: Ports) -> None:
    # Given a lead known by user id only
    organization_id = new_id()
    user = ContactIdentity.of(user_id=f"BR.{new_id()}")
    first = ports.leads.resolve(organization_id, user, LeadSource.HISTORY_SYNC, T0)
    # When the same user id is resolved again
    second = ports.leads.resolve(organization_id, user, LeadSource.LIVE_MESSAGE, at(1))
    # Then it is the same lead, without a phone
    assert second.created is False and second.lead.id == first.lead.id
    assert second.lead.phone_number is None and second.lead.source is LeadSource.HISTORY_SYNC


def test_the_same_phone_in_two_organizations_is_two_leads(ports: Ports) -> None:
    # Given a phone resolved in one organization
    number = unique_number()
    mine = ports.leads.resolve(new_id(), phone(number), LeadSource.LIVE_MESSAGE, T0)
    # When it is resolved in another organization
    theirs = ports.leads.resolve(new_id(), phone(number), LeadSource.LIVE_MESSAGE, T0)
    # Then that organization gets its own lead
    assert theirs.created is True and theirs.lead.id != mine.lead.id


def test_resolve_links_a_user_id_onto_the_lead_found_by_phone(ports: Ports) -> None:
    # Given a lead known by phone only
    organization_id = new_id()
    number = unique_number()
    by_phone = ports.leads.resolve(organization_id, phone(number), LeadSource.STATE_SYNC, T0)
    # When the phone shows up with a user id
    user_id = f"BR.{new_id()}"
    both = ports.leads.resolve(
        organization_id, ContactIdentity.of(wa_id=number, user_id=user_id), LeadSource.LIVE_MESSAGE, at(1)
    )
    # Then the lead is returned as it was found, and the user id alone now finds it, linked
    assert both.created is False and both.lead == by_phone.lead and both.lead.user_id is None
    linked = ports.leads.find(organization_id, ContactIdentity.of(user_id=user_id))
    assert linked is not None and linked.id == by_phone.lead.id
    assert (linked.user_id, linked.phone_number) == (user_id, "+" + number)


def test_resolve_links_a_phone_onto_the_lead_found_by_user_id(ports: Ports) -> None:
    # Given a lead known by user id only
    organization_id = new_id()
    user_id = f"BR.{new_id()}"
    by_user = ports.leads.resolve(organization_id, ContactIdentity.of(user_id=user_id), LeadSource.HISTORY_SYNC, T0)
    # When the user id shows up with a phone
    number = unique_number()
    ports.leads.resolve(
        organization_id, ContactIdentity.of(wa_id=number, user_id=user_id), LeadSource.LIVE_MESSAGE, at(1)
    )
    # Then the phone alone now finds that lead
    linked = ports.leads.find(organization_id, phone(number))
    assert linked is not None and linked.id == by_user.lead.id
    assert (linked.phone_number, linked.wa_id) == ("+" + number, number)


def test_resolve_reports_the_tickets_the_lead_opened(ports: Ports) -> None:
    # Given a lead with one ticket opened
    box = inbox(ports)
    open_ticket(ports, box, "wamid.T1")
    # When the lead is resolved again
    again = ports.leads.resolve(box.organization_id, phone(box.lead.lead.wa_id or ""), LeadSource.LIVE_MESSAGE, at(1))
    # Then it reports that ticket
    assert (box.lead.tickets_opened, again.tickets_opened) == (0, 1)


def test_find_of_an_unknown_identity_is_none(ports: Ports) -> None:
    # Given an organization with one lead
    organization_id = new_id()
    ports.leads.resolve(organization_id, phone(unique_number()), LeadSource.LIVE_MESSAGE, T0)
    # When another phone and an empty identity are looked up
    # Then neither finds a lead
    assert ports.leads.find(organization_id, phone(unique_number())) is None
    assert ports.leads.find(organization_id, ContactIdentity()) is None


def test_update_overwrites_the_name_or_keeps_one_already_set(ports: Ports) -> None:
    # Given a lead named "Maria"
    organization_id = new_id()
    lead = ports.leads.resolve(
        organization_id, ContactIdentity.of(wa_id=unique_number(), name="Maria"), LeadSource.STATE_SYNC, T0
    ).lead
    # When a name is offered without overwrite, then with it
    ports.leads.update(lead.id, push_name="Mari")
    kept = ports.reader.lead(lead.id)
    ports.leads.update(lead.id, push_name="Maria Souza", overwrite_name=True)
    overwritten = ports.reader.lead(lead.id)
    # Then the set name is kept, and replaced only on overwrite
    assert kept is not None and kept.push_name == "Maria"
    assert overwritten is not None and overwritten.push_name == "Maria Souza"


def test_update_sets_a_name_on_a_lead_without_one(ports: Ports) -> None:
    # Given a lead without a name
    lead = ports.leads.resolve(new_id(), phone(unique_number()), LeadSource.HISTORY_SYNC, T0).lead
    # When a name is offered without overwrite
    ports.leads.update(lead.id, push_name="Joana")
    # Then it is set
    found = ports.reader.lead(lead.id)
    assert found is not None and found.push_name == "Joana"


def test_update_inactive_without_a_sync_time_changes_nothing(ports: Ports) -> None:
    # Given an active lead
    lead = ports.leads.resolve(new_id(), phone(unique_number()), LeadSource.STATE_SYNC, T0).lead
    # When it is deactivated without a sync time
    ports.leads.update(lead.id, active=False)
    # Then it is still active, not deleted
    found = ports.reader.lead(lead.id)
    assert found is not None and (found.is_active, found.deleted_at) == (True, None)


def test_update_inactive_by_a_sync_soft_deletes_the_lead(ports: Ports) -> None:
    # Given an active lead
    lead = ports.leads.resolve(new_id(), phone(unique_number()), LeadSource.STATE_SYNC, T0).lead
    # When a contact sync removes it
    ports.leads.update(lead.id, active=False, synced_at=at(10))
    # Then it is inactive, deleted (and synced) at the sync time
    found = ports.reader.lead(lead.id)
    assert found is not None
    assert (found.is_active, found.deleted_at, found.last_synced_at) == (False, at(10), at(10))


def test_update_active_clears_the_deletion(ports: Ports) -> None:
    # Given a lead a sync removed
    lead = ports.leads.resolve(new_id(), phone(unique_number()), LeadSource.STATE_SYNC, T0).lead
    ports.leads.update(lead.id, active=False, synced_at=at(10))
    # When a later sync adds it back
    ports.leads.update(lead.id, active=True, synced_at=at(20))
    # Then it is active again, with no deletion time
    found = ports.reader.lead(lead.id)
    assert found is not None and (found.is_active, found.deleted_at, found.last_synced_at) == (True, None, at(20))


def test_update_moves_the_last_message_time_forward_only(ports: Ports) -> None:
    # Given a lead whose last message was at 100 s
    lead = ports.leads.resolve(new_id(), phone(unique_number()), LeadSource.LIVE_MESSAGE, T0).lead
    ports.leads.update(lead.id, message_at=at(100))
    # When an older message time, then a newer one, are given
    ports.leads.update(lead.id, message_at=at(50))
    older = ports.reader.lead(lead.id)
    ports.leads.update(lead.id, message_at=at(200))
    newer = ports.reader.lead(lead.id)
    # Then the older one is ignored and the newer one moves it
    assert older is not None and older.last_message_at == at(100)
    assert newer is not None and newer.last_message_at == at(200)


def test_update_sets_the_history_flag_and_never_clears_it(ports: Ports) -> None:
    # Given a lead
    lead = ports.leads.resolve(new_id(), phone(unique_number()), LeadSource.STATE_SYNC, T0).lead
    # When history is flagged, then an update without the flag follows
    ports.leads.update(lead.id, has_history=True)
    ports.leads.update(lead.id, has_history=False, message_at=at(1))
    # Then the lead keeps its history flag (and is a history lead)
    found = ports.reader.lead(lead.id)
    assert found is not None and found.has_history is True and found.is_history_lead


# =========================================================================== conversations
def test_a_lead_has_one_conversation_per_connection(ports: Ports) -> None:
    # Given a lead on a connection
    box = inbox(ports)
    # When its conversation is ensured again later, and on another connection
    again = ports.conversations.ensure(box.organization_id, box.lead.lead.id, box.connection.id, at(50), None)
    other = ports.conversations.ensure(box.organization_id, box.lead.lead.id, connect(ports).id, at(50), None)
    # Then the first is the same conversation (deterministic id, first creation time) and the other is new
    assert again == box.conversation_id == conversation_id_for(box.lead.lead.id, box.connection.id)
    assert other != again
    conversation = ports.reader.conversation(again)
    assert conversation is not None and conversation.created_at == T0


def test_conversations_of_a_lead_are_listed_by_connection(ports: Ports) -> None:
    # Given a lead with conversations on three connections
    box = inbox(ports)
    connections = [box.connection.id, connect(ports).id, connect(ports).id]
    for connection_id in connections[1:]:
        ports.conversations.ensure(box.organization_id, box.lead.lead.id, connection_id, T0, None)
    # When its conversations are listed
    listed = ports.reader.conversations_of(box.lead.lead.id)
    # Then there is one per connection, by connection id
    assert [c.connection_id for c in listed] == sorted(connections)
    assert {c.lead_id for c in listed} == {box.lead.lead.id}


def test_conversation_last_message_time_moves_forward_only(ports: Ports) -> None:
    # Given a conversation whose last message was at 100 s
    box = inbox(ports)
    ensure = ports.conversations.ensure
    ensure(box.organization_id, box.lead.lead.id, box.connection.id, T0, at(100))
    # When an older time, no time, and a newer time are given
    ensure(box.organization_id, box.lead.lead.id, box.connection.id, T0, at(10))
    ensure(box.organization_id, box.lead.lead.id, box.connection.id, T0, None)
    kept = ports.reader.conversation(box.conversation_id)
    ensure(box.organization_id, box.lead.lead.id, box.connection.id, T0, at(300))
    moved = ports.reader.conversation(box.conversation_id)
    # Then only the newer one moves it
    assert kept is not None and kept.last_message_at == at(100)
    assert moved is not None and moved.last_message_at == at(300)
