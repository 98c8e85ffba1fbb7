"""CONTRACT §8.5 (history-sync status) and §8.6 (contacts) on the in-memory world."""

from __future__ import annotations

import pytest

from tests.builders import payloads as b
from tests.unit.onboarding import CUSTOMER, OTHER, T0, Onboarded
from whatrack.domain.connections import HistorySyncStatus
from whatrack.domain.history import ChunkStatus
from whatrack.domain.log import LogStatus


@pytest.fixture
def ob() -> Onboarded:
    return Onboarded.connect()


# ---------------------------------------------------------------- §8.5 sync status
def test_rule_8_5_first_chunk_starts_the_sync(ob: Onboarded) -> None:
    # Given a connection waiting for the business's consent
    assert ob.state().history.status is HistorySyncStatus.PENDING_CONSENT
    # When the first chunk arrives (not the first in order)
    ob.deliver(b.chunk(1, 2, 60, b.thread(CUSTOMER, b.text("wamid.C2", CUSTOMER, T0))))
    # Then the sync is syncing, started, and audited once
    state = ob.state().history
    assert (state.status, state.progress, state.started_at is not None) == (HistorySyncStatus.SYNCING, 60, True)
    assert ob.audit_events() == ["sync_started"]


def test_rule_8_5_progress_never_goes_back_and_late_chunks_are_imported(ob: Onboarded) -> None:
    # Given a chunk at 60 %, then the last chunk (another phase) at 100 %
    ob.deliver(b.chunk(1, 2, 60, b.thread(CUSTOMER, b.text("wamid.C2", CUSTOMER, T0))))
    ob.deliver(b.chunk(2, 1, 100, b.thread(OTHER, b.text("wamid.C3", OTHER, T0))))
    # When an earlier chunk arrives late
    ob.deliver(b.chunk(1, 1, 30, b.thread(CUSTOMER, b.text("wamid.C1", CUSTOMER, T0 - 10))))
    # Then it is imported, and the state shown is the completed one of the highest progress
    state = ob.state().history
    assert (state.status, state.progress, state.phase, state.chunk_order) == (HistorySyncStatus.COMPLETED, 100, 2, 1)
    assert state.messages_imported == 3 and "wamid.C1" in ob.messages()
    assert state.completed_at is not None and state.duration_seconds is not None
    assert [(c.phase, c.chunk_order) for c in ob.world.reader.chunks(ob.connection.id)] == [(1, 1), (1, 2), (2, 1)]


def test_rule_8_5_a_completed_sync_with_a_chunk_never_sent_shows_the_gap_on_the_connection(ob: Onboarded) -> None:
    # Given phase 1's chunks 1 and 3 and the last chunk; chunk 2 of phase 1 never comes
    ob.deliver(b.chunk(1, 3, 60, b.thread(CUSTOMER, b.text("wamid.C3", CUSTOMER, T0))))
    ob.deliver(b.chunk(1, 1, 20, b.thread(CUSTOMER, b.text("wamid.C1", CUSTOMER, T0 - 10))))
    ob.deliver(b.chunk(2, 1, 100, b.thread(OTHER, b.text("wamid.D1", OTHER, T0))))
    # Then the sync completed, and the connection itself (what the card reads) names the missing chunk
    state = ob.state().history
    assert state.status is HistorySyncStatus.COMPLETED
    assert state.chunk_gaps == [(1, 2)]
    # And the late chunk closes the gap
    ob.deliver(b.chunk(1, 2, 40, b.thread(CUSTOMER, b.text("wamid.C2", CUSTOMER, T0 - 5))))
    assert ob.state().history.chunk_gaps == []


def test_rule_8_5_completion_in_phase_0(ob: Onboarded) -> None:
    # Given a sync waiting for history
    # When a phase-0 chunk reports 100 %
    ob.deliver(b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.P0", CUSTOMER, T0))))
    # Then the sync is completed, audited once even when the chunk comes again
    ob.deliver(b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.P0", CUSTOMER, T0))))
    assert ob.state().history.status is HistorySyncStatus.COMPLETED
    assert sorted(ob.audit_events()) == ["sync_completed", "sync_started"]


def test_rule_8_5_declined(ob: Onboarded) -> None:
    # Given a sync waiting for consent
    # When the business declines (error 2593109)
    ob.deliver(b.declined())
    # Then the sync is declined with Meta's error, and audited
    state = ob.state().history
    assert (state.status, state.error_code) == (HistorySyncStatus.DECLINED, "2593109")
    assert state.error_message == "History sync is turned off by the business"
    assert ob.audit_events() == ["sync_declined"]


def test_rule_8_5_any_other_history_error_fails_the_sync(ob: Onboarded) -> None:
    # Given a sync waiting for consent
    # When history reports another error
    ob.deliver(b.envelope("history", {"history": [{"errors": [{"code": 131000, "message": "boom"}]}]}))
    # Then the sync failed with that error
    state = ob.state().history
    assert (state.status, state.error_code, state.error_message) == (HistorySyncStatus.FAILED, "131000", "boom")
    assert ob.audit_events() == ["sync_failed"]


def test_rule_8_5_bare_declined_payload(ob: Onboarded) -> None:
    # Given a sync waiting for consent
    # When the decline arrives as Meta documents it: the bare value, without envelope
    ob.deliver(b.declined()["entry"][0]["changes"][0]["value"])
    # Then the sync is declined
    assert ob.state().history.status is HistorySyncStatus.DECLINED


def test_rule_8_5_chunk_that_keeps_failing_shows_failed(ob: Onboarded) -> None:
    # Given a routed history chunk
    ob.world.post(b.chunk(1, 7, 70, b.thread(CUSTOMER, b.text("wamid.F", CUSTOMER, T0))))
    # When it kept failing and is dead-lettered
    [dead] = ob.world.dead_letter()
    # Then the chunk, the sync and the change's log entry show it failed
    state = ob.state().history
    assert (state.status, state.error_code) == (HistorySyncStatus.FAILED, "chunk_failed")
    [chunk] = ob.world.reader.chunks(ob.connection.id)
    assert (chunk.phase, chunk.chunk_order, chunk.status) == (1, 7, ChunkStatus.FAILED)
    entry = ob.world.webhook_log.entry(dead.log_id)
    assert entry is not None and entry.status is LogStatus.FAILED
    assert ob.messages() == {}


# ---------------------------------------------------------------- §8.6 contacts
def test_rule_8_6_add_creates_then_updates_the_lead(ob: Onboarded) -> None:
    # Given a contact added in the App
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria Silva")))
    # When it is added again with another name
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria S. Souza")))
    # Then one active lead holds the new name, its number and its sync time, counted once
    lead = ob.lead()
    assert (lead.push_name, lead.phone_number, lead.is_active) == ("Maria S. Souza", "+" + CUSTOMER, True)
    assert lead.last_synced_at is not None and lead.source.value == "state_sync"
    assert ob.state().history.contacts_imported == 1


def test_rule_8_6_remove_soft_deletes_the_lead(ob: Onboarded) -> None:
    # Given a synced contact
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria Silva")))
    # When it is removed in the App
    ob.deliver(b.contacts(("remove", CUSTOMER, None)))
    # Then the lead is kept, inactive, with its deletion time
    lead = ob.lead()
    assert (lead.is_active, lead.deleted_at) == (False, lead.last_synced_at)
    assert lead.deleted_at is not None


def test_rule_8_6_removing_an_unknown_contact_creates_nothing(ob: Onboarded) -> None:
    # Given no lead for a number
    # When the App removes that contact
    ob.deliver(b.contacts(("remove", OTHER, None)))
    # Then no lead appears, and the change is still processed
    assert ob.leads() == []
    assert [e.status for e in ob.webhook_entries()] == [LogStatus.PROCESSED]


def test_rule_8_6_a_removed_contact_added_back_is_active_again(ob: Onboarded) -> None:
    # Given a removed contact
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")), b.contacts(("remove", CUSTOMER, None)))
    # When it is added back
    ob.deliver(b.contacts(("add", CUSTOMER, "Maria")))
    # Then the same lead is active again, without deletion time
    lead = ob.lead()
    assert (lead.is_active, lead.deleted_at) == (True, None)
