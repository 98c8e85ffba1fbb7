"""CONTRACT §8.10 (one person, one lead), failure handling, unmatched changes and every reference
payload shape, on the in-memory world."""

from __future__ import annotations

import pytest

from tests.builders import payloads as b
from tests.builders.samples import SAMPLES
from tests.fakes import InMemoryWorld
from tests.fakes.operations import Clock
from tests.unit.onboarding import CUSTOMER, OTHER, T0, Onboarded, at
from whatrack.domain.connections import ConnectionStatus, HistorySyncStatus
from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import LeadSource
from whatrack.domain.log import LogStatus
from whatrack.services.processors.identity import resolve_lead


@pytest.fixture
def ob() -> Onboarded:
    return Onboarded.connect()


def live_with_user_id(wamid: str, wa_id: str, user_id: str, ts: int) -> dict[str, object]:
    message = {
        "from": wa_id,
        "from_user_id": user_id,
        "id": wamid,
        "timestamp": str(ts),
        "type": "text",
        "text": {"body": "x"},
    }
    return b.envelope("messages", {"contacts": [{"wa_id": wa_id, "user_id": user_id}], "messages": [message]})


# ---------------------------------------------------------------- identity (§8.10)
def test_brazilian_ninth_digit_and_bsuid_meet_on_one_lead(ob: Onboarded) -> None:
    # Given a contact with the nine-digit number
    ob.deliver(b.contacts(("add", "5511966660001", "Ana")))
    # When history uses the eight-digit form, live traffic shows it with a user id,
    # and a later chunk shows the user id alone (phone hidden)
    ob.deliver(b.chunk(1, 1, 50, b.thread("551166660001", b.text("wamid.BR", "551166660001", T0))))
    ob.deliver(live_with_user_id("wamid.U2", "551166660001", "BR.77", T0 + 2))
    ob.deliver(
        b.chunk(1, 2, 60, b.thread(None, b.text("wamid.U1", None, T0 + 1, from_user_id="BR.77"), user_id="BR.77"))
    )
    # Then it is one lead, with both ids, one conversation and the three messages
    lead = ob.lead()
    assert (lead.phone_number, lead.user_id, lead.source) == ("+5511966660001", "BR.77", LeadSource.STATE_SYNC)
    [conversation] = ob.world.reader.conversations_of(lead.id)
    assert conversation.message_count == 3 and len(ob.messages()) == 3


def test_user_id_only_thread_gets_a_lead_without_phone(ob: Onboarded) -> None:
    # Given a history thread of a username user (no phone)
    ob.deliver(b.chunk(2, 1, 90, b.thread(None, b.text("wamid.UID", None, T0, from_user_id="BR.55"), user_id="BR.55")))
    # Then the lead has the user id and no phone
    lead = ob.lead()
    assert (lead.user_id, lead.phone_number, lead.source) == ("BR.55", None, LeadSource.HISTORY_SYNC)


def test_rule_8_10_a_phone_lead_and_a_user_id_lead_become_one(ob: Onboarded) -> None:
    # Given a lead known by phone (contacts) and one known by user id only (history)
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")))
    ob.deliver(b.chunk(2, 1, 90, b.thread(None, b.text("wamid.H", None, T0, from_user_id="AR.9"), user_id="AR.9")))
    assert len(ob.leads()) == 2
    # When a live message shows that phone and that user id together
    ob.deliver(live_with_user_id("wamid.L", CUSTOMER, "AR.9", T0 + 10))
    # Then they are one lead, with the history flag
    lead = ob.lead()
    assert (lead.phone_number, lead.user_id, lead.has_history) == ("+" + CUSTOMER, "AR.9", True)


@pytest.mark.parametrize("contacts_first", [True, False])
def test_rule_8_10_the_merged_lead_opens_a_history_lead_ticket_and_keeps_one_conversation(
    ob: Onboarded, contacts_first: bool
) -> None:
    # Given a lead known by phone (contacts) and one known by user id only (history), in either order
    contact = b.contacts(("add", CUSTOMER, "Maria"))
    history = b.chunk(2, 1, 90, b.thread(None, b.text("wamid.H", None, T0, from_user_id="AR.9"), user_id="AR.9"))
    ob.deliver(*((contact, history) if contacts_first else (history, contact)))
    older = min(ob.leads(), key=lambda lead: (lead.created_at, lead.id))
    # When a live message shows both ids (twice)
    ob.deliver(live_with_user_id("wamid.L", CUSTOMER, "AR.9", T0 + 10))
    ob.deliver(live_with_user_id("wamid.L", CUSTOMER, "AR.9", T0 + 10))
    # Then the older lead is the one left, with one conversation holding both messages
    lead = ob.lead()
    assert (lead.id, lead.source) == (older.id, older.source)
    [conversation] = ob.world.reader.conversations_of(lead.id)
    assert conversation.message_count == 2
    assert {m.conversation_id for m in ob.messages().values()} == {conversation.id}
    # And its one ticket is a history lead's, without a window
    ticket = ob.ticket()
    assert (ticket.lead_id, ticket.conversation_id) == (lead.id, conversation.id)
    assert (ticket.originated_from.value, ticket.message_window_expires_at) == ("history_lead", None)
    # And both ids find it
    for identity in (ContactIdentity.of(wa_id=CUSTOMER), ContactIdentity.of(user_id="AR.9")):
        found = ob.world.leads.find(ob.connection.organization_id, identity)
        assert found is not None and found.id == lead.id


@pytest.mark.parametrize("finisher", ["survivor", "merged"])
@pytest.mark.parametrize("survivor", ["phone", "user_id"])
@pytest.mark.parametrize("step", ["move", "reassign", "absorb", "repoint"])
def test_rule_8_10_a_merge_cut_short_is_finished_by_the_next_message_of_either_id(
    monkeypatch: pytest.MonkeyPatch, step: str, survivor: str, finisher: str
) -> None:
    # Given a phone lead with a live ticket and a history lead by user id, the older one created first
    clock = Clock()
    ob = Onboarded.connect(InMemoryWorld(clock=clock))
    by_phone = (b.contacts(("add", CUSTOMER, "Maria")), b.live("wamid.P", CUSTOMER, T0))
    by_user = (b.chunk(2, 1, 90, b.thread(None, b.text("wamid.H", None, T0, from_user_id="AR.9"), user_id="AR.9")),)
    for documents in (by_phone, by_user) if survivor == "phone" else (by_user, by_phone):
        ob.deliver(*documents)
        clock.advance(seconds=1)
    phone_id, user_id = ContactIdentity.of(wa_id=CUSTOMER), ContactIdentity.of(user_id="AR.9")
    [older, newer] = sorted(ob.leads(), key=lambda lead: lead.created_at)
    # When the merge a message starts fails at one step (storage fault)
    port = {"move": ob.world.messages, "reassign": ob.world.tickets}.get(step, ob.world.leads)
    monkeypatch.setattr(port, step, lambda *a, **k: (_ for _ in ()).throw(TransientError("fault")))
    ports, org = ob.world.ports, ob.connection.organization_id
    both = ContactIdentity.of(wa_id=CUSTOMER, user_id="AR.9")
    with pytest.raises(TransientError):
        resolve_lead(ports, org, both, LeadSource.LIVE_MESSAGE, at(T0 + 5))
    monkeypatch.undo()
    # Then the next message by one id alone (the survivor's, or the merged lead's) finishes it:
    # one lead, the older, with both ids and the history flag, one conversation, the ticket on it
    ids = {"phone": phone_id, "user_id": user_id}
    alone = ids[survivor] if finisher == "survivor" else ids["user_id" if survivor == "phone" else "phone"]
    resolved = resolve_lead(ports, org, alone, LeadSource.LIVE_MESSAGE, at(T0 + 6))
    lead = ob.lead()
    assert resolved.lead.id == lead.id == older.id and resolved.other is None and lead.absorbing is None
    assert (lead.phone_number, lead.user_id, lead.has_history) == ("+" + CUSTOMER, "AR.9", True)
    [conversation] = ob.world.reader.conversations_of(lead.id)
    assert conversation.message_count == 2
    assert (ob.ticket().lead_id, ob.ticket().conversation_id) == (lead.id, conversation.id)
    # And both ids now reach the survivor alone (the guards moved, nothing is left to finish)
    for identity in (phone_id, user_id, both):
        found = ports.leads.resolve(org, identity, LeadSource.LIVE_MESSAGE, at(T0 + 7))
        assert (found.lead, found.other) == (ob.lead(), None)
    assert ob.world.reader.lead(newer.id) == ob.lead()
    # And a repeat changes nothing
    again = resolve_lead(ports, org, both, LeadSource.LIVE_MESSAGE, at(T0 + 7))
    assert (again.lead, again.other) == (ob.lead(), None)


def _cut_short(monkeypatch: pytest.MonkeyPatch, *users: str) -> tuple[Onboarded, list[str]]:
    """A phone lead, then a history lead per user id (each a second later), and the merge of the phone
    with the first user id cut short at ``absorb``; the leads' ids, oldest first."""
    clock = Clock()
    ob = Onboarded.connect(InMemoryWorld(clock=clock))
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")), b.live("wamid.P", CUSTOMER, T0))
    for n, user in enumerate(users):
        clock.advance(seconds=1)
        ob.deliver(b.chunk(2, 1, 90, b.thread(None, b.text(f"wamid.H{n}", None, T0, from_user_id=user), user_id=user)))
    ids = [lead.id for lead in sorted(ob.leads(), key=lambda lead: lead.created_at)]
    with monkeypatch.context() as patch:
        patch.setattr(ob.world.leads, "absorb", lambda *a, **k: (_ for _ in ()).throw(TransientError("fault")))
        with pytest.raises(TransientError):
            resolve_lead(
                ob.world.ports,
                ob.connection.organization_id,
                ContactIdentity.of(wa_id=CUSTOMER, user_id=users[0]),
                LeadSource.LIVE_MESSAGE,
                at(T0 + 5),
            )
    return ob, ids


def test_rule_8_10_two_messages_finishing_one_merge_at_once_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a merge cut short
    ob, [survivor, _] = _cut_short(monkeypatch, "AR.9")
    ports, org = ob.world.ports, ob.connection.organization_id
    absorb = ob.world.leads.absorb

    # When one message of the survivor's id is finishing it, and another finishes it all meanwhile
    def absorb_after_the_other(*args: object) -> object:
        monkeypatch.setattr(ob.world.leads, "absorb", absorb)  # the other runs unhindered
        other = resolve_lead(ports, org, ContactIdentity.of(user_id="AR.9"), LeadSource.LIVE_MESSAGE, at(T0 + 6))
        assert (other.lead.id, other.lead.absorbing) == (survivor, None)
        return absorb(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ob.world.leads, "absorb", absorb_after_the_other)
    first = resolve_lead(ports, org, ContactIdentity.of(wa_id=CUSTOMER), LeadSource.LIVE_MESSAGE, at(T0 + 6))
    # Then both end on the one lead, finished: both ids, one conversation, the ticket on it
    lead = ob.lead()
    assert (first.lead.id, lead.id, lead.absorbing) == (survivor, survivor, None)
    assert (lead.phone_number, lead.user_id, lead.has_history) == ("+" + CUSTOMER, "AR.9", True)
    [conversation] = ob.world.reader.conversations_of(lead.id)
    assert conversation.message_count == 2 and ob.ticket().conversation_id == conversation.id


def test_rule_8_10_a_lead_finishes_its_own_merge_before_it_takes_part_in_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a phone lead whose merge with one history lead was cut short, and another history lead
    ob, [survivor, first, second] = _cut_short(monkeypatch, "AR.9", "AR.10")
    ports, org = ob.world.ports, ob.connection.organization_id
    # When a message shows the phone with the other history lead's user id
    both = ContactIdentity.of(wa_id=CUSTOMER, user_id="AR.10")
    resolved = resolve_lead(ports, org, both, LeadSource.LIVE_MESSAGE, at(T0 + 6))
    # Then both merges are done: one lead, the oldest, with one conversation holding the three messages
    lead = ob.lead()
    assert (resolved.lead.id, lead.id, lead.absorbing) == (survivor, survivor, None)
    [conversation] = ob.world.reader.conversations_of(lead.id)
    assert conversation.message_count == 3
    # And every id reaches it alone, the two merged leads redirecting to it
    for identity in (ContactIdentity.of(user_id="AR.9"), ContactIdentity.of(user_id="AR.10"), both):
        found = ports.leads.resolve(org, identity, LeadSource.LIVE_MESSAGE, at(T0 + 7))
        assert (found.lead, found.other) == (lead, None)
    assert ob.world.reader.lead(first) == ob.world.reader.lead(second) == lead


def test_rule_8_10_a_late_history_write_on_the_merged_lead_reaches_the_survivor(ob: Onboarded) -> None:
    # Given a phone lead and a user-id lead resolved by a history import that has not written yet
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")))
    ports, org = ob.world.ports, ob.connection.organization_id
    late = resolve_lead(ports, org, ContactIdentity.of(user_id="AR.9"), LeadSource.HISTORY_SYNC, at(T0))
    # When a live message merges them, and then the import flags its history on the lead it resolved
    ob.deliver(live_with_user_id("wamid.L", CUSTOMER, "AR.9", T0 + 10))
    ports.leads.update(late.lead.id, has_history=True, message_at=at(T0 + 20))
    # Then the one lead has the flag and the time
    lead = ob.lead()
    assert (lead.has_history, lead.last_message_at) == (True, at(T0 + 20))


# ---------------------------------------------------------------- failure handling
def test_invalid_change_is_rejected_not_retried(ob: Onboarded) -> None:
    # Given a history change whose metadata has the wrong types
    # When it is delivered
    ob.deliver(b.envelope("history", {"history": [{"metadata": {"phase": "x", "chunk_order": 1, "progress": 500}}]}))
    # Then the change is rejected with the validation error, and nothing was imported
    [entry] = ob.webhook_entries()
    assert entry.status is LogStatus.REJECTED and (entry.error or "").startswith("invalid change:")
    assert ob.state().history.status is HistorySyncStatus.PENDING_CONSENT


def test_every_inbound_type_is_stored(ob: Onboarded) -> None:
    # Given live messages of a type we model only as raw content, and of a type we do not know
    ob.deliver(
        b.live_raw("wamid.LOC", OTHER, T0, "location", {"latitude": -23.5, "longitude": -46.6}),
        b.live_raw("wamid.NEW", OTHER, T0 + 1, "future_type", {"anything": True}),
    )
    # Then both are stored with their type and raw content
    messages = ob.messages()
    assert messages["wamid.LOC"].type == "location" and "latitude" in (messages["wamid.LOC"].content or "")
    assert messages["wamid.NEW"].type == "future_type" and "anything" in (messages["wamid.NEW"].content or "")


def test_account_update_disconnects_and_reconnects(ob: Onboarded) -> None:
    # Given an active connection
    # When the partner is removed, then the account reconnects
    ob.deliver(b.account_update("PARTNER_REMOVED"))
    disconnected = ob.state().connection_status
    ob.deliver(b.account_update("ACCOUNT_RECONNECTED"))
    # Then the connection went disconnected, then active, each audited
    assert (disconnected, ob.state().connection_status) == (ConnectionStatus.DISCONNECTED, ConnectionStatus.ACTIVE)
    assert sorted(ob.audit_events()) == ["account_update ACCOUNT_RECONNECTED", "account_update PARTNER_REMOVED"]


def test_every_change_ends_processed_in_the_log(ob: Onboarded) -> None:
    # Given contacts and a live message
    # When they are delivered and consumed
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")), b.live("wamid.P", CUSTOMER, T0))
    # Then both log entries are processed, in the connection's log
    assert [e.status for e in ob.webhook_entries()] == [LogStatus.PROCESSED, LogStatus.PROCESSED]
    assert {e.connection_id for e in ob.webhook_entries()} == {ob.connection.id}


# ---------------------------------------------------------------- unmatched changes
def test_unmatched_changes_are_applied_when_the_connection_is_created() -> None:
    # Given contacts and a completed chunk for a number with no connection yet
    world = InMemoryWorld()
    world.deliver(
        b.contacts(("add", CUSTOMER, "Maria")),
        b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.EARLY", CUSTOMER, T0))),
    )
    assert [e.status for e in world.webhook_log.entries.values()] == [LogStatus.UNMATCHED, LogStatus.UNMATCHED]
    assert world.all_messages() == {}
    # When the number is connected (its kept changes are replayed from the archive) and consumed
    ob = Onboarded.connect(world)
    replayed = world.pump()
    # Then both changes were applied to it and their entries are processed, none left unmatched
    assert len(replayed) == 2 and all(m.by_reference for m in replayed)
    assert list(ob.messages()) == ["wamid.EARLY"]
    state = ob.state().history
    assert (state.status, state.contacts_imported) == (HistorySyncStatus.COMPLETED, 1)
    assert {(e.status, e.connection_id) for e in ob.webhook_entries()} == {(LogStatus.PROCESSED, ob.connection.id)}
    assert world.webhook_log.unmatched(b.PNID).items == []


# ---------------------------------------------------------------- every reference shape through the pipeline
def test_every_reference_payload_shape_is_processed(ob: Onboarded) -> None:
    # Given one connection of the samples' number
    # When every reference sample is delivered
    for name in sorted(SAMPLES):
        ob.deliver(SAMPLES[name])
    # Then every change was processed
    entries = ob.webhook_entries()
    assert len(entries) == len(SAMPLES)
    assert {e.status for e in entries} == {LogStatus.PROCESSED}, [(e.event, e.error) for e in entries]
    # And the odd shapes landed as the contract says
    messages = ob.messages()
    assert (messages["wamid.LOWER1"].history_status, messages["wamid.LOWER1"].status) == ("READ", "read")
    assert messages["wamid.LOWER2"].direction.value == "OUTBOUND"
    assert messages["wamid.UNSUP1"].type == "unsupported" and "not supported" in (messages["wamid.UNSUP1"].error or "")
    assert messages["wamid.ECHO1"].deleted is True
    # And their audit events were written
    assert {
        "sync_started",
        "sync_completed",
        "sync_declined",
        "messages_error",
        "account_update PARTNER_REMOVED",
    } <= set(ob.audit_events())


def test_rule_8_10_a_contact_sync_showing_both_ids_makes_one_lead(ob: Onboarded) -> None:
    # Given a phone lead (a live message) and a history lead known by user id only
    ob.deliver(b.live("wamid.P", CUSTOMER, T0))
    ob.deliver(b.chunk(2, 1, 90, b.thread(None, b.text("wamid.H", None, T0, from_user_id="AR.9"), user_id="AR.9")))
    # When the App's contact sync shows the phone and the user id as one person (twice)
    both = b.contacts(("add", CUSTOMER, "Maria"))
    both["entry"][0]["changes"][0]["value"]["state_sync"][0]["contact"]["user_id"] = "AR.9"
    ob.deliver(both)
    ob.deliver(both)
    # Then there is one lead, with both ids, the history flag and both messages
    lead = ob.lead()
    assert (lead.phone_number, lead.user_id, lead.has_history) == ("+" + CUSTOMER, "AR.9", True)
    [conversation] = ob.world.reader.conversations_of(lead.id)
    assert conversation.message_count == 2


@pytest.mark.parametrize("survivor", ["phone", "user_id"])
def test_rule_8_10_a_contact_change_during_a_merge_cut_short_reaches_the_survivor(
    monkeypatch: pytest.MonkeyPatch, survivor: str
) -> None:
    # Given a merge of a phone lead and a user-id lead cut short after its first step
    clock = Clock()
    ob = Onboarded.connect(InMemoryWorld(clock=clock))
    by_phone = (b.contacts(("add", CUSTOMER, "Maria")),)
    by_user = (b.chunk(2, 1, 90, b.thread(None, b.text("wamid.H", None, T0, from_user_id="AR.9"), user_id="AR.9")),)
    for documents in (by_phone, by_user) if survivor == "phone" else (by_user, by_phone):
        ob.deliver(*documents)
        clock.advance(seconds=1)
    monkeypatch.setattr(ob.world.leads, "absorb", lambda *a, **k: (_ for _ in ()).throw(TransientError("fault")))
    both = ContactIdentity.of(wa_id=CUSTOMER, user_id="AR.9")
    with pytest.raises(TransientError):
        resolve_lead(ob.world.ports, ob.connection.organization_id, both, LeadSource.LIVE_MESSAGE, at(T0 + 5))
    monkeypatch.undo()
    # When the App removes the contact by phone (a later sync)
    removal = b.contacts(("remove", CUSTOMER, None))
    removal["entry"][0]["changes"][0]["value"]["state_sync"][0]["metadata"]["timestamp"] = str(T0 + 86400 * 600)
    ob.deliver(removal)
    # Then the merge is finished and the one lead left shows the removal
    lead = ob.lead()
    assert (lead.phone_number, lead.user_id, lead.absorbing) == ("+" + CUSTOMER, "AR.9", None)
    assert lead.is_active is False


@pytest.mark.parametrize("contacts_first", [True, False])
def test_rule_8_10_the_merged_lead_keeps_the_contact_name_time_whichever_survives(contacts_first: bool) -> None:
    # Given a contact named at 1751401000 and a user-id-only history lead, in either order
    ob = Onboarded.connect()
    contact = b.contacts(("add", CUSTOMER, "Maria"))
    history = b.chunk(2, 1, 90, b.thread(None, b.text("wamid.H", None, T0, from_user_id="AR.9"), user_id="AR.9"))
    ob.deliver(*((contact, history) if contacts_first else (history, contact)))
    # When a live message shows both ids, then a rename older than the contact's name arrives
    ob.deliver(live_with_user_id("wamid.L", CUSTOMER, "AR.9", T0 + 10))
    older = b.contacts(("add", CUSTOMER, "Nome antigo"))
    older["entry"][0]["changes"][0]["value"]["state_sync"][0]["metadata"]["timestamp"] = "1751400500"
    ob.deliver(older)
    # Then the one lead keeps the contact's name
    assert ob.lead().push_name == "Maria"
