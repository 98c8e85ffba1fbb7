"""Contract of :class:`whatrack.ports.ContactSyncStore` (CONTRACT §8.6), on the fakes and on DynamoDB."""

from __future__ import annotations

from tests.integration.contracts.support import T0, Ports, at, connect, history, phone, unique_number
from whatrack.domain.contacts import ContactAction, ContactChange
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import Lead, LeadSource


def add(raw: str, seconds: float, name: str | None = "Maria", user_id: str | None = None) -> ContactChange:
    return ContactChange(ContactIdentity.of(wa_id=raw, user_id=user_id, name=name), ContactAction.ADD, at(seconds))


def remove(raw: str, seconds: float) -> ContactChange:
    return ContactChange(ContactIdentity.of(wa_id=raw), ContactAction.REMOVE, at(seconds))


def lead(ports: Ports, organization_id: str, raw: str) -> Lead:
    found = ports.leads.find(organization_id, phone(raw))
    assert found is not None
    return found


def test_a_batch_creates_each_person_once_counted_and_listed_under_the_connection(ports: Ports) -> None:
    # Given a connection and a batch of three contacts, one named twice
    connection = connect(ports)
    org = connection.organization_id
    a, b_, c = unique_number(), unique_number(), unique_number()
    batch = [add(a, 1), add(b_, 1, "Joana"), add(c, 1), add(a, 2, "Maria S.")]
    # When it is applied, then applied again (a redelivery)
    first = ports.contacts.apply(org, connection.id, batch, T0)
    again = ports.contacts.apply(org, connection.id, batch, T0)
    # Then three active state_sync leads, the latest name, counted once, listed under the connection
    assert (first.created, first.counted, again.created, again.counted) == (3, 3, 0, 0)
    maria = lead(ports, org, a)
    assert (maria.push_name, maria.is_active, maria.last_synced_at, maria.source) == (
        "Maria S.",
        True,
        at(2),
        LeadSource.STATE_SYNC,
    )
    assert history(ports, connection.id).contacts_imported == 3
    listed = ports.reader.leads(org, limit=10, cursor=None, connection_id=connection.id)
    assert len(listed.items) == 3


def test_an_older_change_never_overwrites_a_newer_one(ports: Ports) -> None:
    # Given a contact added at 1 and removed at 3
    connection = connect(ports)
    org, raw = connection.organization_id, unique_number()
    ports.contacts.apply(org, connection.id, [add(raw, 1)], T0)
    ports.contacts.apply(org, connection.id, [remove(raw, 3)], T0)
    # When an add of 2 arrives late
    late = ports.contacts.apply(org, connection.id, [add(raw, 2, "Renamed")], T0)
    # Then the lead stays removed at 3 (its name is the latest the App gave)
    found = lead(ports, org, raw)
    assert (found.is_active, found.deleted_at, found.last_synced_at) == (False, at(3), at(3))
    assert (late.stale, found.push_name) == (1, "Renamed")
    # and a newer add brings it back
    ports.contacts.apply(org, connection.id, [add(raw, 4)], T0)
    back = lead(ports, org, raw)
    assert (back.is_active, back.deleted_at, back.push_name) == (True, None, "Maria")


def test_a_remove_of_an_unknown_person_creates_no_lead_but_wins_over_its_older_add(ports: Ports) -> None:
    # Given a remove at 5 of someone we have no lead for
    connection = connect(ports)
    org, raw = connection.organization_id, unique_number()
    result = ports.contacts.apply(org, connection.id, [remove(raw, 5)], T0)
    assert result.tombstones == 1 and ports.leads.find(org, phone(raw)) is None
    # When the add of 4 arrives
    ports.contacts.apply(org, connection.id, [add(raw, 4)], T0)
    # Then the lead is created removed at 5, and counted
    found = lead(ports, org, raw)
    assert (found.is_active, found.deleted_at) == (False, at(5))
    assert history(ports, connection.id).contacts_imported == 1


def test_an_existing_lead_is_updated_linked_and_counted_once_per_connection(ports: Ports) -> None:
    # Given a lead of a live message (phone only), on an organization with two connections
    connection = connect(ports)
    other = connect(ports, connection.organization_id)
    org, raw = connection.organization_id, unique_number()
    existing = ports.leads.resolve(org, phone(raw), LeadSource.LIVE_MESSAGE, T0).lead
    # When both connections' contact syncs add it, with its user id
    for target in (connection, other, connection):
        ports.contacts.apply(org, target.id, [add(raw, 1, user_id=f"BR.{raw}")], T0)
    # Then it is the same lead, now found by its user id too, counted once per connection
    found = ports.leads.find(org, ContactIdentity.of(user_id=f"BR.{raw}"))
    assert found is not None and found.id == existing.id
    assert (found.source, found.push_name, found.last_synced_at) == (LeadSource.LIVE_MESSAGE, "Maria", at(1))
    assert history(ports, connection.id).contacts_imported == 1
    assert history(ports, other.id).contacts_imported == 1


def test_the_checkpoint_only_moves_forward(ports: Ports) -> None:
    connection = connect(ports)
    assert ports.contacts.progress(connection.id, "change-1") == 0
    ports.contacts.save_progress(connection.id, "change-1", 198)
    ports.contacts.save_progress(connection.id, "change-1", 99)
    assert ports.contacts.progress(connection.id, "change-1") == 198
    assert ports.contacts.progress(connection.id, "change-2") == 0


def test_a_person_reaching_two_leads_or_a_merge_cut_short_is_reported_to_merge(ports: Ports) -> None:
    # Given a phone lead and a user-id lead of one person, and a third person whose lead is retired
    # into another by a merge cut short (§8.10)
    connection = connect(ports)
    org = connection.organization_id
    a, c = unique_number(), unique_number()
    ports.contacts.apply(org, connection.id, [add(a, 1), add(c, 1)], T0)
    user = f"AR.{unique_number()}"
    ports.leads.resolve(org, ContactIdentity.of(user_id=user), LeadSource.HISTORY_SYNC, T0)
    survivor = ports.leads.resolve(org, ContactIdentity.of(user_id=f"AR.{c}"), LeadSource.HISTORY_SYNC, T0)
    assert ports.leads.retire(lead(ports, org, c).id, survivor.lead.id) is not None
    # When a batch shows the first person's two ids, and names the third by phone
    result = ports.contacts.apply(org, connection.id, [add(a, 2, user_id=user), add(c, 2)], T0)
    # Then both are reported to be merged by the caller
    assert set(result.to_merge) == {ContactIdentity.of(wa_id=a, user_id=user, name="Maria"), add(c, 2).identity}
