"""A history chunk imported per chunk (issue 11): counterparts resolved together, a completed chunk
recognised by its content hash, a chunk cut short finished by its redelivery (on the in-memory world)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import payloads as b
from tests.unit.onboarding import CUSTOMER, OTHER, T0, Onboarded, at
from whatrack.domain.errors import TransientError
from whatrack.domain.history import ChunkStatus
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import LeadSource


@pytest.fixture
def ob() -> Onboarded:
    return Onboarded.connect()


def chunk(progress: int = 50, *extra: dict[str, Any]) -> dict[str, Any]:
    return b.chunk(
        1,
        1,
        progress,
        b.thread(CUSTOMER, b.text("wamid.A1", CUSTOMER, T0), b.text("wamid.A2", b.BIZ, T0 + 5)),
        b.thread(OTHER, b.text("wamid.B1", OTHER, T0 + 1)),
        *extra,
    )


def test_a_chunk_resolves_every_thread_together_with_flags_and_conversations(ob: Onboarded) -> None:
    # Given a contact-synced lead for one of the chunk's customers
    ob.world.leads.resolve(ob.connection.organization_id, b_identity(CUSTOMER), LeadSource.STATE_SYNC, at(T0 - 99))
    # When a chunk with that customer and a new one arrives
    ob.deliver(chunk())
    # Then both are history leads with their last message; the new one was created by history
    leads = {lead.wa_id: lead for lead in ob.leads()}
    assert set(leads) == {CUSTOMER, OTHER}
    assert (leads[CUSTOMER].source, leads[CUSTOMER].has_history) == (LeadSource.STATE_SYNC, True)
    assert (leads[OTHER].source, leads[OTHER].has_history) == (LeadSource.HISTORY_SYNC, True)
    assert (leads[CUSTOMER].last_message_at, leads[OTHER].last_message_at) == (at(T0 + 5), at(T0 + 1))
    state = ob.state().history
    assert (state.messages_imported, state.threads_imported) == (3, 2)
    assert {m.conversation_id for m in ob.messages().values()} == {
        c.id for lead in leads.values() for c in ob.world.reader.conversations_of(lead.id)
    }


def test_a_completed_chunk_delivered_again_is_recognised_and_changes_nothing(
    ob: Onboarded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a chunk imported completely
    ob.deliver(chunk())
    before = ob.state().history
    # When the same chunk is delivered again
    arrivals: list[Any] = []
    original = ob.world.sync.chunk_arrived
    monkeypatch.setattr(ob.world.sync, "chunk_arrived", lambda *a: arrivals.append(a) or original(*a))
    monkeypatch.setattr(ob.world.threads, "resolve_threads", _must_not_run)
    monkeypatch.setattr(ob.world.messages, "import_history", _must_not_run)
    ob.deliver(chunk())
    # Then nothing was resolved, written nor counted again
    assert arrivals == []
    assert ob.state().history == before
    assert [c.status for c in ob.world.reader.chunks(ob.connection.id)] == [ChunkStatus.PROCESSED]


def test_a_chunk_cut_short_is_finished_by_its_redelivery(ob: Onboarded, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a chunk (the last one) whose import failed after its leads were resolved
    original = ob.world.messages.import_history
    monkeypatch.setattr(ob.world.messages, "import_history", _must_not_run)
    with pytest.raises(TransientError):
        ob.deliver(chunk(100))
    assert ob.messages() == {} and ob.world.reader.chunks(ob.connection.id) == []
    # When it is delivered again
    monkeypatch.setattr(ob.world.messages, "import_history", original)
    ob.deliver(chunk(100))
    # Then the import is completed, counted once, and the sync completed
    state = ob.state().history
    assert (state.messages_imported, state.threads_imported, state.status.value) == (3, 2, "completed")
    assert len(ob.leads()) == 2
    assert [c.status for c in ob.world.reader.chunks(ob.connection.id)] == [ChunkStatus.PROCESSED]


def test_the_same_chunk_with_other_content_is_imported(ob: Onboarded) -> None:
    # Given chunk 1 of phase 1 imported
    ob.deliver(chunk())
    # When a chunk with the same phase and order but another thread arrives (a new request's history)
    ob.deliver(chunk(50, b.thread("5491188880003", b.text("wamid.C1", "5491188880003", T0 + 2))))
    # Then its new thread is imported, the others not twice
    state = ob.state().history
    assert (state.messages_imported, state.threads_imported) == (4, 3)


def test_a_thread_of_a_person_known_as_two_leads_merges_them(ob: Onboarded) -> None:
    # Given one customer known by phone and by user id as two leads
    org = ob.connection.organization_id
    ob.world.leads.resolve(org, b_identity(CUSTOMER), LeadSource.LIVE_MESSAGE, at(T0 - 50))
    ob.world.leads.resolve(org, b_identity(None, "BR.42"), LeadSource.LIVE_MESSAGE, at(T0 - 40))
    # When a chunk's thread shows both ids, beside another customer's thread
    both = b.thread(CUSTOMER, b.text("wamid.M1", CUSTOMER, T0, from_user_id="BR.42"), user_id="BR.42")
    ob.deliver(b.chunk(1, 1, 50, both, b.thread(OTHER, b.text("wamid.B1", OTHER, T0 + 1))))
    # Then the two leads are one (the older), a history lead holding both ids and the message
    survivors = [lead for lead in ob.leads() if lead.merged_into is None]
    assert len(survivors) == 2
    merged = next(lead for lead in survivors if lead.wa_id == CUSTOMER)
    assert (merged.user_id, merged.has_history, merged.created_at) == ("BR.42", True, at(T0 - 50))
    assert ob.messages()["wamid.M1"].conversation_id == ob.world.reader.conversations_of(merged.id)[0].id
    assert ob.state().history.messages_imported == 2


def b_identity(wa_id: str | None, user_id: str | None = None) -> ContactIdentity:
    return ContactIdentity.of(wa_id=wa_id, user_id=user_id)


def _must_not_run(*_args: Any, **_kwargs: Any) -> Any:
    raise TransientError("not expected here")
