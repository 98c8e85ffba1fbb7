"""Port contract: the kept set of a number, the reconciler's index of entries with no outcome, and a
connection's entries by time (the replay tool)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.integration.contracts.support import Ports, at, connect, log_entry, unique_number
from whatrack.domain.changes import WebhookField
from whatrack.domain.connections import Connection
from whatrack.domain.ids import new_id
from whatrack.domain.log import LogStatus, WebhookLogEntry
from whatrack.domain.routing import ConnectionTarget

# a time no other contract test writes: the pending index is shared by every test of a backend
OLD = datetime(2001, 1, 1, tzinfo=UTC)


def old(seconds: float) -> datetime:
    return OLD + timedelta(seconds=seconds)


def old_entry(
    connection: Connection, status: LogStatus, seconds: float, phone_number_id: str | None = None
) -> WebhookLogEntry:
    made = log_entry(None if status is LogStatus.UNMATCHED else connection, status, phone_number_id=phone_number_id)
    return replace(made, at=old(seconds))


def test_the_kept_set_of_a_number_pages_and_shrinks_as_changes_are_released(ports: Ports) -> None:
    # Given five changes kept for a number (one redelivered later), and one for another number
    number = unique_number("2099")
    entries = [log_entry(None, LogStatus.UNMATCHED, i, phone_number_id=number) for i in range(5)]
    ports.webhook_log.record([*entries, log_entry(None, LogStatus.UNMATCHED, phone_number_id=unique_number("2099"))])
    ports.webhook_log.record([log_entry(None, LogStatus.UNMATCHED, 9, log_id=entries[0].id, phone_number_id=number)])
    # When they are read two at a time, each page's changes released before the next page is read
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = ports.webhook_log.unmatched(number, limit=2, cursor=cursor)
        pages += 1
        seen += [e.id for e in page.items]
        for e in page.items:
            ports.webhook_log.release(number, e.id)
        cursor = page.next_cursor
        if cursor is None:
            break
    # Then every change was listed once, and nothing is kept any more
    assert sorted(seen) == sorted(e.id for e in entries) and pages == 3
    assert ports.webhook_log.unmatched(number).items == []


def test_a_change_already_further_along_is_not_kept_again(ports: Ports) -> None:
    # Given an unmatched change routed to its new connection, then redelivered (as unmatched)
    number = unique_number("2099")
    entry = log_entry(None, LogStatus.UNMATCHED, phone_number_id=number)
    ports.webhook_log.record([entry])
    connection = connect(ports, phone_number_id=number)
    ports.webhook_log.attach(entry.id, ConnectionTarget(connection.id, connection.organization_id), at(1))
    ports.webhook_log.release(number, entry.id)
    ports.webhook_log.set_status(entry.id, LogStatus.PROCESSED, at(2))
    ports.webhook_log.record([log_entry(None, LogStatus.UNMATCHED, 3, log_id=entry.id, phone_number_id=number)])
    # Then it is not kept again
    assert ports.webhook_log.unmatched(number).items == []


def test_entries_with_no_outcome_are_listed_once_old_enough_until_they_reach_one(ports: Ports) -> None:
    # Given a routed, a received and an unmatched entry written long ago, one routed a moment ago,
    # and entries that reached an outcome (processed, failed, rejected)
    connection = connect(ports)
    number = unique_number("2099")
    routed, received = old_entry(connection, LogStatus.ROUTED, 1), old_entry(connection, LogStatus.RECEIVED, 2)
    kept = old_entry(connection, LogStatus.UNMATCHED, 3, phone_number_id=number)
    recent = old_entry(connection, LogStatus.ROUTED, 500)
    processed, failed, rejected = (old_entry(connection, LogStatus.ROUTED, 4) for _ in range(3))
    ports.webhook_log.record([routed, received, kept, recent, processed, failed, rejected])
    ports.webhook_log.set_status(processed.id, LogStatus.PROCESSED, old(5))
    ports.webhook_log.set_status(rejected.id, LogStatus.REJECTED, old(5), error="bad")
    ports.webhook_log.mark_failed(
        failed.id, old(5), "kept failing", connection_id=connection.id, field=WebhookField.HISTORY
    )
    # When the entries older than 100 s are listed, one at a time
    listed: list[WebhookLogEntry] = []
    cursor: str | None = None
    while True:
        page = ports.webhook_log.stuck(old(100), limit=1, cursor=cursor)
        listed += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    # Then they are the three with no outcome, with what a re-drive needs
    assert {e.id for e in listed} == {routed.id, received.id, kept.id} and len(listed) == 3
    by_id = {e.id: e for e in listed}
    assert by_id[routed.id].connection_id == connection.id
    assert by_id[kept.id].phone_number_id == number


def test_a_redriven_entry_waits_for_its_next_check_and_an_outcome_ends_it(ports: Ports) -> None:
    # Given a routed entry written long ago
    connection = connect(ports)
    entry = replace(log_entry(connection, LogStatus.ROUTED, log_id=new_id()), at=old(10))
    ports.webhook_log.record([entry])

    def stuck_ids(before: datetime) -> set[str]:
        return {e.id for e in ports.webhook_log.stuck(before, limit=1000).items}

    assert entry.id in stuck_ids(old(100))
    # When it is re-driven at 100 s with its next check at 200 s
    assert ports.webhook_log.redriven(entry.id, old(100), next_check=old(200)) is True
    # Then it is not listed before 200 s, listed after, with its count of re-drives
    assert entry.id not in stuck_ids(old(150))
    [again] = [e for e in ports.webhook_log.stuck(old(250), limit=1000).items if e.id == entry.id]
    assert again.redrives == 1
    # And once processed it is no longer listed, and a re-drive is refused
    ports.webhook_log.set_status(entry.id, LogStatus.PROCESSED, old(300))
    assert entry.id not in stuck_ids(old(10_000))
    assert ports.webhook_log.redriven(entry.id, old(400), next_check=old(400)) is False


def test_sweeps_that_found_a_change_waiting_for_its_connection_are_not_counted_as_redrives(ports: Ports) -> None:
    # Given a change kept for a number, looked at by five sweeps while no connection had it
    connection = connect(ports)
    number = unique_number()
    entry = replace(log_entry(None, LogStatus.UNMATCHED, phone_number_id=number, log_id=new_id()), at=old(10))
    ports.webhook_log.record([entry])
    for sweep in range(5):
        assert ports.webhook_log.redriven(entry.id, old(100 + sweep), next_check=old(101 + sweep))
    # When its connection is created and it is routed (at 200 s)
    assert ports.webhook_log.attach(entry.id, ConnectionTarget(connection.id, connection.organization_id), old(200))
    # Then the reconciler's count starts again (issue 10 review: it was given up at once)
    [again] = [e for e in ports.webhook_log.stuck(old(10_000), limit=1000).items if e.id == entry.id]
    assert again.redrives == 0


def test_a_connections_entries_are_listed_by_first_time_in_a_range(ports: Ports) -> None:
    # Given entries of a connection at 10, 20, 30 and 40 s (the one at 20 s redelivered at 50 s),
    # an audit entry at 25 s, and an entry of another connection at 20 s
    connection, other = connect(ports), connect(ports)
    entries = [log_entry(connection, LogStatus.ROUTED, s) for s in (10, 20, 30, 40)]
    ports.webhook_log.record([*entries, log_entry(other, LogStatus.ROUTED, 20)])
    ports.webhook_log.record([log_entry(connection, LogStatus.ROUTED, 50, log_id=entries[1].id)])
    ports.audit.record(connection.id, "sync_started", at(25), key="started")
    # When the range 15..35 s is listed, one entry at a time
    listed: list[WebhookLogEntry] = []
    cursor: str | None = None
    while True:
        page = ports.webhook_log.of_connection(connection.id, at(15), at(35), limit=1, cursor=cursor)
        listed += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    # Then the two webhook entries first received in it, oldest first
    assert [e.id for e in listed] == [entries[1].id, entries[2].id]
