"""Port contract: A connection's history-sync state, chunks and counters (§8.5)."""

from __future__ import annotations

import pytest

from tests.integration.contracts.support import (
    T0,
    Ports,
    at,
    connect,
    history,
)
from whatrack.domain.connections import (
    HistorySyncStatus,
)
from whatrack.domain.history import ChunkStatus


# =========================================================================== history sync
def test_first_chunk_starts_the_sync(ports: Ports) -> None:
    # Given a connection waiting for consent
    connection = connect(ports)
    # When its first chunk arrives
    started = ports.sync.chunk_arrived(connection.id, 1, 2, 30, at(5))
    # Then the sync started with that chunk's progress, phase and order
    state = history(ports, connection.id)
    assert started is True
    assert (state.status, state.progress, state.phase, state.chunk_order) == (HistorySyncStatus.SYNCING, 30, 1, 2)
    assert (state.started_at, state.last_payload_at) == (at(5), at(5))


def test_later_chunk_keeps_the_start_and_moves_the_last_payload_time(ports: Ports) -> None:
    # Given a sync started by a first chunk
    connection = connect(ports)
    ports.sync.chunk_arrived(connection.id, 1, 1, 10, at(0))
    # When another chunk arrives later
    started = ports.sync.chunk_arrived(connection.id, 1, 2, 20, at(60))
    # Then it did not start the sync again; started_at stays and last_payload_at is the new time
    state = history(ports, connection.id)
    assert started is False
    assert (state.started_at, state.last_payload_at) == (at(0), at(60))


def test_progress_shown_is_the_highest_seen_with_its_phase_and_order(ports: Ports) -> None:
    # Given a sync at 60 % (phase 1, chunk 3)
    connection = connect(ports)
    ports.sync.chunk_arrived(connection.id, 1, 3, 60, at(0))
    # When a late chunk with less progress and one with the same progress arrive
    ports.sync.chunk_arrived(connection.id, 0, 9, 40, at(1))
    ports.sync.chunk_arrived(connection.id, 2, 1, 60, at(2))
    # Then progress, phase and order are still those of the first 60 % chunk
    state = history(ports, connection.id)
    assert (state.progress, state.phase, state.chunk_order) == (60, 1, 3)
    # And a chunk with more progress moves all three
    ports.sync.chunk_arrived(connection.id, 2, 4, 80, at(3))
    state = history(ports, connection.id)
    assert (state.progress, state.phase, state.chunk_order) == (80, 2, 4)


def test_the_chunks_seen_give_the_gaps_in_any_order_and_redelivered(ports: Ports) -> None:
    # Given chunks arriving out of order, one twice, with orders 2 and 3 of phase 0 and 1 of phase 1 never sent
    connection = connect(ports)
    for phase, order, progress in [(0, 4, 40), (1, 2, 80), (0, 1, 10), (0, 4, 40), (2, 1, 100)]:
        ports.sync.chunk_arrived(connection.id, phase, order, progress, at(progress))
    # Then the connection knows every chunk seen once, and what is missing below each phase's highest
    state = history(ports, connection.id)
    assert state.chunks_seen == {(0, 4), (1, 2), (0, 1), (2, 1)}
    assert state.chunk_gaps == [(0, 2), (0, 3), (1, 1)]
    # And a late chunk fills its gap
    ports.sync.chunk_arrived(connection.id, 0, 2, 20, at(200))
    assert history(ports, connection.id).chunk_gaps == [(0, 3), (1, 1)]


@pytest.mark.parametrize(
    ("before", "starts"),
    [
        (HistorySyncStatus.PENDING_CONSENT, True),
        (HistorySyncStatus.NOT_REQUESTED, True),
        (HistorySyncStatus.COMPLETED, False),
        (HistorySyncStatus.DECLINED, False),
    ],
)
def test_a_chunk_starts_the_sync_only_before_it_started(ports: Ports, before: HistorySyncStatus, starts: bool) -> None:
    # Given a connection whose sync is in state ``before``
    connection = connect(ports, status=before)
    # When a chunk arrives
    started = ports.sync.chunk_arrived(connection.id, 1, 1, 10, at(0))
    # Then only a sync that had not started becomes "syncing"
    assert started is starts
    assert history(ports, connection.id).status is (HistorySyncStatus.SYNCING if starts else before)


def test_completion_is_true_on_the_transition_only(ports: Ports) -> None:
    # Given a syncing connection
    connection = connect(ports, status=HistorySyncStatus.SYNCING)
    # When it completes twice
    first, second = ports.sync.complete(connection.id, at(10)), ports.sync.complete(connection.id, at(20))
    # Then only the first answered True, and the completion time is the first one
    state = history(ports, connection.id)
    assert (first, second) == (True, False)
    assert (state.status, state.completed_at) == (HistorySyncStatus.COMPLETED, at(10))


def test_a_completed_sync_is_not_undone_by_a_later_error(ports: Ports) -> None:
    # Given a sync that completed (issue 10, defect 11: a late chunk's dead letter moved it to failed)
    connection = connect(ports, status=HistorySyncStatus.SYNCING)
    ports.sync.complete(connection.id, at(10))
    # When a late chunk keeps failing
    stopped = ports.sync.stop(connection.id, HistorySyncStatus.FAILED, "chunk_failed", "kept failing", at(15))
    # Then it is still completed, with its completion time and no error
    state = history(ports, connection.id)
    assert stopped is False
    assert (state.status, state.completed_at, state.error_code) == (HistorySyncStatus.COMPLETED, at(10), None)


def test_a_decline_is_not_turned_into_a_failure(ports: Ports) -> None:
    connection = connect(ports, status=HistorySyncStatus.SYNCING)
    ports.sync.stop(connection.id, HistorySyncStatus.DECLINED, "2593109", "turned off", at(5))
    assert not ports.sync.stop(connection.id, HistorySyncStatus.FAILED, "chunk_failed", "kept failing", at(15))
    assert (history(ports, connection.id).status, history(ports, connection.id).error_code) == (
        HistorySyncStatus.DECLINED,
        "2593109",
    )


def test_stop_records_the_error_when_the_status_changes(ports: Ports) -> None:
    # Given a syncing connection
    connection = connect(ports, status=HistorySyncStatus.SYNCING)
    # When the business declines
    stopped = ports.sync.stop(connection.id, HistorySyncStatus.DECLINED, "2593109", "turned off", at(30))
    # Then the sync is declined with the error and the payload time
    state = history(ports, connection.id)
    assert stopped is True
    assert (state.status, state.error_code, state.error_message) == (
        HistorySyncStatus.DECLINED,
        "2593109",
        "turned off",
    )
    assert state.last_payload_at == at(30)


def test_stop_with_the_same_status_changes_nothing(ports: Ports) -> None:
    # Given a failed sync
    connection = connect(ports, status=HistorySyncStatus.SYNCING)
    ports.sync.stop(connection.id, HistorySyncStatus.FAILED, "131000", "first", at(1))
    # When it fails again with another error
    again = ports.sync.stop(connection.id, HistorySyncStatus.FAILED, "131001", "second", at(2))
    # Then nothing changed: the first error and time are kept
    state = history(ports, connection.id)
    assert again is False
    assert (state.error_code, state.error_message, state.last_payload_at) == ("131000", "first", at(1))


def test_recording_a_chunk_again_overwrites_its_row(ports: Ports) -> None:
    # Given a processed chunk
    connection = connect(ports)
    ports.sync.record_chunk(
        connection.id, 1, 4, 50, threads=2, messages=9, status=ChunkStatus.PROCESSED, at=at(0), log_id="a"
    )
    # When the same (phase, chunk order) is recorded as failed
    ports.sync.record_chunk(
        connection.id, 1, 4, 50, threads=0, messages=0, status=ChunkStatus.FAILED, at=at(5), log_id="b", error="x"
    )
    # Then there is one chunk, as last recorded
    [chunk] = ports.reader.chunks(connection.id)
    assert (chunk.status, chunk.threads, chunk.messages, chunk.received_at) == (ChunkStatus.FAILED, 0, 0, at(5))


def test_chunks_are_listed_by_phase_then_chunk_order(ports: Ports) -> None:
    # Given chunks recorded out of order
    connection = connect(ports)
    for phase, order in [(2, 1), (0, 10), (1, 2), (0, 9), (1, 1)]:
        ports.sync.record_chunk(
            connection.id, phase, order, 10, threads=1, messages=1, status=ChunkStatus.PROCESSED, at=T0, log_id=None
        )
    # When they are listed
    listed = [(c.phase, c.chunk_order) for c in ports.reader.chunks(connection.id)]
    # Then they are sorted by phase, then chunk order
    assert listed == [(0, 9), (0, 10), (1, 1), (1, 2), (2, 1)]


def test_a_contact_is_counted_once_per_connection_and_lead(ports: Ports) -> None:
    # Given a connection
    connection = connect(ports)
    # When one lead is counted twice and another once
    answers = [ports.sync.count_contact(connection.id, lead) for lead in ("lead-a", "lead-a", "lead-b")]
    # Then each lead counted once
    assert answers == [True, False, True]
    assert history(ports, connection.id).contacts_imported == 2
