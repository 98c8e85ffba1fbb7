"""Port contract: a history chunk's counterparts resolved together, and the record of a completed import."""

from __future__ import annotations

from tests.integration.contracts.support import T0, Ports, at, connect, message, phone, stored, unique_number
from whatrack.domain.history import ChunkStatus, ThreadCounterpart, ThreadImport, content_hash
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import LeadSource, conversation_id_for
from whatrack.domain.messages import MessageSource


def test_new_counterparts_become_history_leads_with_their_conversations(ports: Ports) -> None:
    # Given a connection and three customers nobody knows yet, one by user id only
    connection = connect(ports)
    org = connection.organization_id
    user = ContactIdentity.of(user_id=f"BR.{new_id()}")
    identities = [phone(unique_number()), phone(unique_number()), user]
    # When a chunk's threads with them are resolved
    resolved = ports.threads.resolve_threads(
        org, connection.id, [ThreadCounterpart(i, at(10 + n)) for n, i in enumerate(identities)], at(100)
    )
    # Then each has a new history lead, whose conversation the import opens with its messages
    assert resolved.created == 3 and None not in resolved.lead_ids
    assert all(resolved.opens_conversation(n) for n in range(3))
    threads = [
        ThreadImport(
            conversation_id_for(lead_id or "", connection.id),
            lead_id or "",
            [message(f"wamid.{new_id()}", 10 + n), message(f"wamid.{new_id()}", 5 + n)],
            opens_at=at(100),
        )
        for n, lead_id in enumerate(resolved.lead_ids)
    ]
    imported = ports.messages.import_history(org, connection.id, threads)
    assert (imported.new_messages, imported.new_threads) == (6, 3)
    # with a history lead, flagged, with its last message, and a conversation there counting them
    for n, (identity, lead_id) in enumerate(zip(identities, resolved.lead_ids, strict=True)):
        lead = ports.leads.find(org, identity)
        assert lead is not None and lead.id == lead_id
        assert (lead.source, lead.has_history, lead.last_message_at, lead.created_at) == (
            LeadSource.HISTORY_SYNC,
            True,
            at(10 + n),
            at(100),
        )
        conversation = ports.reader.conversation(conversation_id_for(lead.id, connection.id))
        assert conversation is not None and conversation.last_message_at == at(10 + n)
        assert (conversation.created_at, conversation.message_count) == (at(100), 2)


def test_an_existing_lead_is_flagged_and_its_times_move_forward_only(ports: Ports) -> None:
    # Given a contact-synced lead whose conversation on the connection had a message at 50 s
    connection = connect(ports)
    org, identity = connection.organization_id, phone(unique_number())
    lead = ports.leads.resolve(org, identity, LeadSource.STATE_SYNC, T0).lead
    ports.leads.update(lead.id, message_at=at(50))
    ports.conversations.ensure(org, lead.id, connection.id, T0, at(50))
    # When a chunk's older thread and then a newer one with that person are resolved
    older = ports.threads.resolve_threads(org, connection.id, [ThreadCounterpart(identity, at(20))], at(100))
    kept = ports.reader.lead(lead.id)
    newer = ports.threads.resolve_threads(org, connection.id, [ThreadCounterpart(identity, at(70))], at(100))
    # Then it is the same lead (its source kept), flagged at once, its times never going back
    assert older.lead_ids == newer.lead_ids == (lead.id,) and older.created == newer.created == 0
    assert kept is not None and (kept.has_history, kept.last_message_at, kept.source) == (
        True,
        at(50),
        LeadSource.STATE_SYNC,
    )
    moved = ports.reader.lead(lead.id)
    assert moved is not None and moved.last_message_at == at(70)
    conversation = ports.reader.conversation(conversation_id_for(lead.id, connection.id))
    assert conversation is not None and (conversation.last_message_at, conversation.created_at) == (at(70), T0)


def test_threads_of_one_person_give_one_lead_with_the_latest_message(ports: Ports) -> None:
    # Given a chunk with two threads of one customer, in two notations of the number
    connection = connect(ports)
    number = unique_number()
    counterparts = [
        ThreadCounterpart(phone(number), at(30)),
        ThreadCounterpart(phone(number[:4] + number[5:]), at(40)),
    ]
    # When they are resolved (twice: a redelivery)
    first = ports.threads.resolve_threads(connection.organization_id, connection.id, counterparts, at(100))
    again = ports.threads.resolve_threads(connection.organization_id, connection.id, counterparts, at(200))
    # Then one lead, created once, with the later message
    assert first.lead_ids[0] == first.lead_ids[1] == again.lead_ids[0] == again.lead_ids[1]
    assert (first.created, again.created) == (1, 0)
    lead = ports.reader.lead(first.lead_ids[0] or "")
    assert lead is not None and lead.last_message_at == at(40) and lead.created_at == at(100)


def test_the_missing_half_of_an_identity_is_linked_to_the_lead(ports: Ports) -> None:
    # Given a lead known by phone
    connection = connect(ports)
    org, number = connection.organization_id, unique_number()
    lead = ports.leads.resolve(org, phone(number), LeadSource.LIVE_MESSAGE, T0).lead
    # When a thread shows that phone with a user id
    both = ContactIdentity.of(wa_id=number, user_id=f"BR.{new_id()}")
    resolved = ports.threads.resolve_threads(org, connection.id, [ThreadCounterpart(both, at(5))], at(100))
    # Then the user id leads to the same lead, which now holds it
    assert resolved.lead_ids == (lead.id,)
    found = ports.leads.find(org, ContactIdentity.of(user_id=both.user_id))
    assert found is not None and found.id == lead.id and found.user_id == both.user_id


def test_a_person_known_as_two_leads_is_left_to_the_merge(ports: Ports) -> None:
    # Given a lead by phone and another by user id, and a third customer nobody knows
    connection = connect(ports)
    org, number, user_id = connection.organization_id, unique_number(), f"BR.{new_id()}"
    by_phone = ports.leads.resolve(org, phone(number), LeadSource.LIVE_MESSAGE, T0).lead
    by_user = ports.leads.resolve(org, ContactIdentity.of(user_id=user_id), LeadSource.LIVE_MESSAGE, T0).lead
    both = ContactIdentity.of(wa_id=number, user_id=user_id)
    stranger = phone(unique_number())
    # When a chunk shows the phone and the user id together, and the stranger
    resolved = ports.threads.resolve_threads(
        org, connection.id, [ThreadCounterpart(both, at(5)), ThreadCounterpart(stranger, at(6))], at(100)
    )
    # Then the first is left to the one-by-one resolve, untouched; the stranger is resolved
    assert resolved.lead_ids[0] is None and resolved.lead_ids[1] is not None
    assert resolved.to_merge == [0]
    for lead in (by_phone, by_user):
        found = ports.reader.lead(lead.id)
        assert found is not None and found.has_history is False
        assert ports.reader.conversation(conversation_id_for(lead.id, connection.id)) is None


def test_a_lead_in_a_merge_cut_short_is_left_to_the_merge(ports: Ports) -> None:
    # Given two leads whose merge was cut short after its first step
    connection = connect(ports)
    org = connection.organization_id
    older, newer = phone(unique_number()), phone(unique_number())
    survivor = ports.leads.resolve(org, older, LeadSource.LIVE_MESSAGE, T0).lead
    merged = ports.leads.resolve(org, newer, LeadSource.LIVE_MESSAGE, at(1)).lead
    assert ports.leads.retire(merged.id, survivor.id) is not None
    # When a chunk shows either of them
    resolved = ports.threads.resolve_threads(
        org, connection.id, [ThreadCounterpart(older, at(5)), ThreadCounterpart(newer, at(5))], at(100)
    )
    # Then both are left to the one-by-one resolve (which finishes the merge)
    assert resolved.lead_ids == (None, None)


def test_more_counterparts_than_one_batch_are_all_resolved(ports: Ports) -> None:
    # Given a chunk of 105 customers, 5 of them known already
    connection = connect(ports)
    org = connection.organization_id
    identities = [ContactIdentity.of(user_id=f"BR.{new_id()}") for _ in range(105)]
    known = {ports.leads.resolve(org, i, LeadSource.STATE_SYNC, T0).lead.id for i in identities[:5]}
    # When they are resolved together
    resolved = ports.threads.resolve_threads(
        org, connection.id, [ThreadCounterpart(i, at(5)) for i in identities], at(100)
    )
    # Then every one has its lead: the 5 known ones, 100 new ones
    assert resolved.created == 100 and None not in resolved.lead_ids
    assert set(resolved.lead_ids[:5]) == known and len(set(resolved.lead_ids)) == 105


def test_a_chunk_is_imported_only_once_recorded_processed_with_its_hash(ports: Ports) -> None:
    # Given a connection, and the hash of a chunk's content
    connection = connect(ports)
    digest = content_hash({"history": [{"metadata": {"phase": 1}, "threads": []}]})
    record = ports.sync.record_chunk
    # When nothing, a failed record, and then a processed record with that hash are written
    nothing = ports.sync.chunk_imported(connection.id, 1, 3, digest)
    record(connection.id, 1, 3, 40, threads=1, messages=2, status=ChunkStatus.FAILED, at=T0, log_id="a")
    failed = ports.sync.chunk_imported(connection.id, 1, 3, digest)
    record(
        connection.id,
        1,
        3,
        40,
        threads=1,
        messages=2,
        status=ChunkStatus.PROCESSED,
        at=T0,
        log_id="a",
        content_hash=digest,
    )
    # Then only the processed record of that content says it was imported
    assert (nothing, failed) == (False, False)
    assert ports.sync.chunk_imported(connection.id, 1, 3, digest) is True
    assert ports.sync.chunk_imported(connection.id, 1, 3, content_hash({"other": 1})) is False
    assert ports.sync.chunk_imported(connection.id, 1, 4, digest) is False


def test_a_thread_counted_in_an_earlier_chunk_is_known_as_counted(ports: Ports) -> None:
    # Given a customer whose history thread was imported (and counted) in an earlier chunk
    from whatrack.domain.history import ThreadImport

    connection = connect(ports)
    org, identity = connection.organization_id, phone(unique_number())
    first = ports.threads.resolve_threads(org, connection.id, [ThreadCounterpart(identity, at(10))], at(100))
    lead_id = first.lead_ids[0] or ""
    conversation_id = conversation_id_for(lead_id, connection.id)
    ports.messages.import_history(org, connection.id, [ThreadImport(conversation_id, lead_id)])
    # When a later chunk meets the same customer, and a new one
    later = ports.threads.resolve_threads(
        org,
        connection.id,
        [ThreadCounterpart(identity, at(20)), ThreadCounterpart(phone(unique_number()), at(30))],
        at(200),
    )
    # Then only the first is known as counted (a new customer, or one never imported, is not)
    assert not first.already_counted(0)
    assert later.lead_ids[0] == lead_id and later.already_counted(0) and not later.already_counted(1)
    # And an import told so counts nothing twice
    again = ports.messages.import_history(org, connection.id, [ThreadImport(conversation_id, lead_id, counted=True)])
    assert again.new_threads == 0 and stored(ports, connection.id).history.threads_imported == 1


def test_a_conversation_to_open_that_exists_meanwhile_counts_the_messages_in_it(ports: Ports) -> None:
    # Given a new customer's lead, and its conversation created meanwhile (a live message) with 1 message
    connection = connect(ports)
    org, identity = connection.organization_id, phone(unique_number())
    resolved = ports.threads.resolve_threads(org, connection.id, [ThreadCounterpart(identity, at(10))], at(100))
    lead_id = resolved.lead_ids[0] or ""
    conversation_id = ports.conversations.ensure(org, lead_id, connection.id, at(150), at(150))
    box_message = message(f"wamid.{new_id()}", 150, source=MessageSource.LIVE)
    assert ports.messages.insert(org, connection.id, conversation_id, box_message)
    # When the import opens it with two history messages
    thread = ThreadImport(
        conversation_id, lead_id, [message(f"wamid.{new_id()}", 10), message(f"wamid.{new_id()}", 5)], opens_at=at(100)
    )
    imported = ports.messages.import_history(org, connection.id, [thread])
    # Then the messages are counted in the existing conversation, which keeps its own times
    assert imported.new_messages == 2
    conversation = ports.reader.conversation(conversation_id)
    assert conversation is not None and conversation.message_count == 3
    assert (conversation.created_at, conversation.last_message_at) == (at(150), at(150))


def test_a_new_lead_merged_before_its_conversation_is_opened_refuses_the_import(ports: Ports) -> None:
    # Given a new customer's lead, merged into an older lead before the import opens its conversation
    import pytest

    from whatrack.domain.errors import TransientError

    connection = connect(ports)
    org, identity = connection.organization_id, phone(unique_number())
    older = ports.leads.resolve(org, phone(unique_number()), LeadSource.STATE_SYNC, at(1)).lead
    resolved = ports.threads.resolve_threads(org, connection.id, [ThreadCounterpart(identity, at(10))], at(100))
    lead_id = resolved.lead_ids[0] or ""
    assert ports.leads.retire(lead_id, older.id) is not None
    # When the import opens it
    conversation_id = conversation_id_for(lead_id, connection.id)
    thread = ThreadImport(conversation_id, lead_id, [message(f"wamid.{new_id()}", 10)], opens_at=at(100))
    # Then it is refused as a conflict (the chunk is retried, and then reaches the survivor), writing nothing
    with pytest.raises(TransientError):
        ports.messages.import_history(org, connection.id, [thread])
    assert ports.reader.conversation(conversation_id) is None
    assert stored(ports, connection.id).history.messages_imported == 0
