"""Issue 10, defect 10: large contact syncs finish, in batches, resumably, and keep CONTRACT §8.6.

On the in-memory world: 5,000 contacts in one change, changes in any order, a sync interrupted by
the invocation's deadline or by a crash that resumes from its checkpoint.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from tests.builders import payloads as b
from tests.fakes import InMemoryContactSync, InMemoryWorld
from tests.unit.onboarding import CUSTOMER, Onboarded, at
from whatrack.domain.changes import ChangeMessage
from whatrack.domain.contacts import CONTACT_BATCH, ContactChange, ContactSyncResult
from whatrack.domain.errors import TransientError
from whatrack.domain.log import LogStatus
from whatrack.services.processors.base import InboxPorts
from whatrack.services.processors.contacts import ContactsProcessor, ContactSyncPausedError

MANY = 5_000
T1, T2, T3 = 1751401000, 1751402000, 1751403000


def contact(action: str, ts: int, phone: str = CUSTOMER, name: str | None = "Maria", user_id: str | None = None) -> Any:
    item: dict[str, Any] = {"phone_number": phone}
    if name and action == "add":
        item |= {"full_name": name}
    if user_id:
        item["user_id"] = user_id
    state = [{"type": "contact", "contact": item, "action": action, "metadata": {"timestamp": str(ts)}}]
    return b.envelope("smb_app_state_sync", {"state_sync": state})


def snapshot(ob: Onboarded) -> list[tuple[Any, ...]]:
    """Every lead as the contract shows it, without what differs between runs (ids, creation time)."""
    return sorted(
        (lead.phone_number, lead.user_id, lead.push_name, lead.is_active, lead.last_synced_at, lead.deleted_at)
        for lead in ob.leads()
    )


@dataclass
class CountingContacts:
    """The contact sync of a world, counting its batches (and failing the ``fail_at``-th, once)."""

    inner: InMemoryContactSync
    batches: list[int] = field(default_factory=list)
    fail_at: int | None = None

    def apply(
        self,
        organization_id: str,
        connection_id: str,
        changes: Sequence[ContactChange],
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ContactSyncResult:
        if self.fail_at is not None and len(self.batches) == self.fail_at:
            self.fail_at = None
            raise TransientError("the Lambda was killed mid-change")
        self.batches.append(len(changes))
        return self.inner.apply(organization_id, connection_id, changes, now, correlation_id=correlation_id)

    def progress(self, connection_id: str, change_id: str) -> int:
        return self.inner.progress(connection_id, change_id)

    def save_progress(self, connection_id: str, change_id: str, done: int) -> None:
        self.inner.save_progress(connection_id, change_id, done)


def posted(ob: Onboarded, document: Any) -> tuple[ChangeMessage, dict[str, Any]]:
    """Post ``document`` and take its queued change (not consumed) and its value (by reference)."""
    ob.world.post(document)
    message = ob.world.publisher.sent[-1]
    ob.world._consumed = len(ob.world.publisher.sent)  # handled by the test's own processor
    return message, ob.world.consumer().load_value(message)


def processor(ob: Onboarded, contacts: CountingContacts, **kwargs: Any) -> ContactsProcessor:
    ports: InboxPorts = ob.world.ports
    return ContactsProcessor(InboxPorts(**{**ports.__dict__, "contacts": contacts}), **kwargs)


# ---------------------------------------------------------------- 5,000 contacts in one change
def test_5000_contacts_are_applied_in_batches_and_counted_once() -> None:
    # Given a connection, and the App's initial dump of 5,000 contacts
    ob = Onboarded.connect()
    contacts = CountingContacts(ob.world.contacts)
    message, message_value = posted(ob, b.contact_sync(MANY))
    # When it is consumed, then redelivered
    processor(ob, contacts)(message, message_value)
    processor(ob, contacts)(message, message_value)
    # Then 5,000 active leads, counted once, in batches of at most 99 (the redelivery applies nothing)
    leads = ob.leads()
    assert len(leads) == MANY and all(lead.is_active and lead.source.value == "state_sync" for lead in leads)
    assert ob.state().history.contacts_imported == MANY
    assert max(contacts.batches) == CONTACT_BATCH and sum(contacts.batches) == MANY
    organization_id, connection_id = ob.connection.organization_id, ob.connection.id
    listed = ob.world.reader.leads(organization_id, limit=10_000, cursor=None, connection_id=connection_id)
    assert len(listed.items) == MANY


# ---------------------------------------------------------------- order and redelivery
def test_an_older_add_arriving_late_never_undoes_a_newer_remove() -> None:
    # Given a contact added at T1 and removed at T2
    ob = Onboarded.connect()
    ob.deliver(contact("add", T1, name="Maria"), contact("remove", T2))
    # When the add of T1 is delivered again (a replay) and a stale rename of T1 arrives
    ob.deliver(contact("add", T1, name="Maria"), contact("add", T1 - 5, name="Old name"))
    # Then the lead stays removed at T2, with its name
    lead = ob.lead()
    assert (lead.is_active, lead.deleted_at, lead.last_synced_at, lead.push_name) == (False, at(T2), at(T2), "Maria")
    assert ob.state().history.contacts_imported == 1


def test_a_remove_that_overtakes_its_add_leaves_the_lead_removed() -> None:
    # Given the App's remove of T2 delivered before the add of T1 (another invocation was faster)
    ob = Onboarded.connect()
    ob.deliver(contact("remove", T2))
    assert ob.leads() == []
    # When the add of T1 arrives
    ob.deliver(contact("add", T1))
    # Then the lead exists (counted, listed) but is removed at T2, as if they had come in order
    lead = ob.lead()
    assert (lead.is_active, lead.deleted_at) == (False, at(T2))
    assert ob.state().history.contacts_imported == 1


def test_contact_changes_give_the_same_state_in_any_order_and_on_redelivery() -> None:
    changes = [
        contact("add", T1, name="Maria"),
        contact("add", T2, name="Maria Souza", user_id="BR.1"),
        contact("remove", T3),
        contact("add", T1, phone="5491177770002", name="Joana"),
    ]
    states = set()
    for order in itertools.permutations(changes):
        ob = Onboarded.connect()
        ob.deliver(*order, *order)
        states.add((tuple(snapshot(ob)), ob.state().history.contacts_imported))
    # every order, each delivered twice, ends the same: Maria removed at T3 with her user id, Joana active
    [(leads, counted)] = states
    assert counted == 2
    assert leads == (
        ("+5491166660001", "BR.1", "Maria Souza", False, at(T3), at(T3)),
        ("+5491177770002", None, "Joana", True, at(T1), None),
    )


def test_a_contact_and_its_user_id_in_one_change_are_one_lead() -> None:
    # Given one change naming a person by phone, then by phone and user id, then by user id
    ob = Onboarded.connect()
    doc = b.contact_sync(1)
    item = doc["entry"][0]["changes"][0]["value"]["state_sync"][0]
    phone = item["contact"]["phone_number"]
    both = dict(item, contact={"phone_number": phone, "user_id": "BR.9", "full_name": "Ana"})
    only_user = dict(item, contact={"user_id": "BR.9", "full_name": "Ana Maria"})
    doc["entry"][0]["changes"][0]["value"]["state_sync"] = [item, both, only_user]
    # When it is delivered
    ob.deliver(doc)
    # Then one lead with both ids and the last name, counted once
    lead = ob.lead()
    assert (lead.user_id, lead.push_name, ob.state().history.contacts_imported) == ("BR.9", "Ana Maria", 1)


# ---------------------------------------------------------------- resumable
def test_an_interrupted_sync_resumes_at_its_checkpoint_and_ends_as_an_uninterrupted_one() -> None:
    # Given the same 5,000-contact change on two connections' worlds
    uninterrupted, interrupted = Onboarded.connect(), Onboarded.connect()
    document = b.contact_sync(MANY)
    reference, reference_value = posted(uninterrupted, document)
    processor(uninterrupted, CountingContacts(uninterrupted.world.contacts))(reference, reference_value)
    # When the invocation runs out of time after 20 batches (less left than the reserve)
    message, message_value = posted(interrupted, document)
    contacts = CountingContacts(interrupted.world.contacts)
    left = iter([60_000] * 20 + [9_000])
    with pytest.raises(ContactSyncPausedError):
        processor(interrupted, contacts, remaining_ms=lambda: next(left))(message, message_value)
    assert len(interrupted.leads()) == 20 * CONTACT_BATCH
    # and the retry has all the time it needs
    processor(interrupted, contacts, remaining_ms=lambda: 60_000)(message, message_value)
    # Then no batch was applied twice, and both end in the same state
    assert sum(contacts.batches) == MANY
    assert snapshot(interrupted) == snapshot(uninterrupted)
    assert interrupted.state().history.contacts_imported == MANY


def test_a_sync_killed_mid_change_resumes_from_its_checkpoint() -> None:
    # Given a 5,000-contact change whose 31st batch fails (the invocation crashed)
    ob = Onboarded.connect()
    message, message_value = posted(ob, b.contact_sync(MANY))
    contacts = CountingContacts(ob.world.contacts, fail_at=30)
    with pytest.raises(TransientError):
        processor(ob, contacts)(message, message_value)
    # When SQS delivers it again
    processor(ob, contacts)(message, message_value)
    # Then it went on from contact 2,970: every contact once, counted once
    assert sum(contacts.batches) == MANY
    assert len(ob.leads()) == MANY and ob.state().history.contacts_imported == MANY


def test_a_paused_change_is_retried_not_rejected() -> None:
    # Given a consumer whose invocation has no time left
    world = InMemoryWorld()
    ob = Onboarded.connect(world)
    ob.world.post(b.contact_sync(2 * CONTACT_BATCH))
    world.consumer()  # built, then its contacts processor replaced by one out of time
    registry = world._consumer._processors  # type: ignore[union-attr]
    registry[next(f for f in registry if f.value == "smb_app_state_sync")] = ContactsProcessor(
        world.ports, remaining_ms=lambda: 1_000
    )
    # When it is consumed
    with pytest.raises(ContactSyncPausedError):
        world.pump()
    # Then the change is left for SQS to retry (not rejected), and nothing was half-written
    assert [e.status for e in ob.webhook_entries()] == [LogStatus.ROUTED]
    assert ob.leads() == []


@pytest.mark.parametrize("contact_first", [True, False])
def test_a_leads_name_is_the_latest_events_whatever_the_order(contact_first: bool) -> None:
    """The App's contact name (at its change's time) and a live message's profile name (at the
    message's time) both name the person: the later event's name stays, in either arrival order."""
    for contact_at, live_at, expected in ((T1, T2, "Maria Perfil"), (T2, T1, "Maria do App")):
        ob = Onboarded.connect()
        documents = [
            contact("add", contact_at, name="Maria do App"),
            b.live("wamid.N", CUSTOMER, live_at, name="Maria Perfil"),
        ]
        ob.deliver(*(documents if contact_first else documents[::-1]))
        assert ob.lead().push_name == expected, (contact_at, live_at, contact_first)
