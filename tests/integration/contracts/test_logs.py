"""Port contract: The audit log and the webhook log."""

from __future__ import annotations

from tests.integration.contracts.support import (
    ARCHIVE_KEY,
    T0,
    Ports,
    at,
    connect,
    log_entry,
    unique_number,
    webhook_statuses,
)
from whatrack.domain.changes import WebhookField
from whatrack.domain.ids import new_id
from whatrack.domain.log import LogKind, LogStatus
from whatrack.domain.routing import ConnectionTarget


# =========================================================================== audit
def test_an_audit_entry_is_written_once_per_connection_and_key(ports: Ports) -> None:
    # Given an audit entry of a connection
    connection, other = connect(ports), connect(ports)
    ports.audit.record(connection.id, "sync_started", at(1), key="sync_started")
    # When the same key is recorded again (another event, later) and on another connection
    ports.audit.record(connection.id, "sync_restarted", at(2), key="sync_started")
    ports.audit.record(other.id, "sync_started", at(3), key="sync_started")
    # Then each connection has one entry, the first recorded
    mine = ports.reader.logs(connection.id, limit=10, cursor=None).items
    theirs = ports.reader.logs(other.id, limit=10, cursor=None).items
    assert [(r.kind, r.event, r.at) for r in mine] == [(LogKind.AUDIT, "sync_started", at(1))]
    assert [r.event for r in theirs] == ["sync_started"]


# =========================================================================== webhook log
def test_a_log_entry_never_moves_back_to_a_lower_rank(ports: Ports) -> None:
    # Given a processed entry
    connection = connect(ports)
    entry = log_entry(connection, LogStatus.PROCESSED)
    ports.webhook_log.record([entry])
    # When a redelivery records it as received, then routed
    ports.webhook_log.record([log_entry(connection, LogStatus.RECEIVED, 5, log_id=entry.id)])
    ports.webhook_log.record([log_entry(connection, LogStatus.ROUTED, 6, log_id=entry.id)])
    # Then it is still processed
    assert webhook_statuses(ports, connection.id) == {entry.id: "processed"}


def test_a_rejection_keeps_its_reason_when_the_change_is_routed_again(ports: Ports) -> None:
    # Given an entry the consumer rejected, with its reason
    connection = connect(ports)
    entry = log_entry(connection, LogStatus.ROUTED)
    ports.webhook_log.record([entry])
    ports.webhook_log.set_status(entry.id, LogStatus.REJECTED, at(2), error="invalid change: bad timestamp")
    # When a redelivery is routed again (issue 10, defect 8: same rank, it used to win)
    ports.webhook_log.record([log_entry(connection, LogStatus.ROUTED, 5, log_id=entry.id)])
    # Then the rejection and its reason stay
    [record] = ports.reader.logs(connection.id, limit=10, cursor=None).items
    assert (record.status, record.error) == ("rejected", "invalid change: bad timestamp")


def test_a_dead_letter_fails_with_the_last_attempts_error_and_never_undoes_an_outcome(ports: Ports) -> None:
    # Given a routed entry whose last attempt failed, and one already processed
    connection = connect(ports)
    flaky, done = log_entry(connection, LogStatus.ROUTED), log_entry(connection, LogStatus.ROUTED)
    ports.webhook_log.record([flaky, done])
    ports.webhook_log.set_status(flaky.id, LogStatus.ROUTED, at(2), error="last attempt failed: Throttled")
    ports.webhook_log.set_status(done.id, LogStatus.PROCESSED, at(2))
    # When both are dead-lettered
    field = WebhookField.MESSAGES
    assert ports.webhook_log.mark_failed(flaky.id, at(5), "kept failing", connection_id=connection.id, field=field)
    assert not ports.webhook_log.mark_failed(done.id, at(5), "kept failing", connection_id=connection.id, field=field)
    # Then the flaky one is failed with its last error; the other is still processed
    records = {r.id: (r.status, r.error) for r in ports.reader.logs(connection.id, limit=10, cursor=None).items}
    assert records == {flaky.id: ("failed", "last attempt failed: Throttled"), done.id: ("processed", None)}


def test_a_log_entry_moves_up_and_keeps_its_first_time(ports: Ports) -> None:
    # Given an entry received at 0 s
    connection = connect(ports)
    entry = log_entry(connection, LogStatus.RECEIVED)
    ports.webhook_log.record([entry])
    # When it is recorded as routed at 5 s
    ports.webhook_log.record([log_entry(connection, LogStatus.ROUTED, 5, log_id=entry.id)])
    # Then it is routed and still shown at its first time
    [record] = ports.reader.logs(connection.id, limit=10, cursor=None).items
    assert (record.id, record.status, record.at, record.archive_key) == (entry.id, "routed", T0, ARCHIVE_KEY)


def test_an_unsent_entry_goes_back_to_received_unless_a_consumer_reached_an_outcome(ports: Ports) -> None:
    # Given two entries ingest recorded routed, one of which a consumer already processed
    connection = connect(ports)
    refused, done = log_entry(connection, LogStatus.ROUTED), log_entry(connection, LogStatus.ROUTED)
    ports.webhook_log.record([refused, done])
    ports.webhook_log.set_status(done.id, LogStatus.PROCESSED, at(1))
    # When the queue refused the body's messages and ingest takes its claim back
    ports.webhook_log.unsent([refused.id, done.id, new_id()], at(2))
    # Then the refused one is received (still pending), the processed one keeps its outcome
    assert webhook_statuses(ports, connection.id) == {refused.id: "received", done.id: "processed"}
    assert [e.id for e in ports.webhook_log.stuck(at(3), limit=10).items if e.id in {refused.id, done.id}] == [
        refused.id
    ]


def test_set_status_needs_an_existing_entry(ports: Ports) -> None:
    # Given no entry with that id
    # When a consumer's outcome is set for it
    applied = ports.webhook_log.set_status(new_id(), LogStatus.PROCESSED, T0)
    # Then nothing is written
    assert applied is False


def test_set_status_never_moves_an_entry_back(ports: Ports) -> None:
    # Given a routed entry
    connection = connect(ports)
    entry = log_entry(connection, LogStatus.ROUTED)
    ports.webhook_log.record([entry])
    # When it is processed, then received again, then failed (same rank as processed)
    processed = ports.webhook_log.set_status(entry.id, LogStatus.PROCESSED, at(1))
    back = ports.webhook_log.set_status(entry.id, LogStatus.RECEIVED, at(2))
    failed = ports.webhook_log.set_status(entry.id, LogStatus.FAILED, at(3), error="kept failing")
    # Then only the move back was refused
    assert (processed, back, failed) == (True, False, True)
    [record] = ports.reader.logs(connection.id, limit=10, cursor=None).items
    assert (record.status, record.error) == ("failed", "kept failing")


def test_unmatched_entries_of_a_number_are_kept_for_it(ports: Ports) -> None:
    # Given unmatched entries of a number (recorded out of order, one redelivered), one of another number,
    # one processed
    number, other_number = unique_number("2099"), unique_number("2099")
    late = log_entry(None, LogStatus.UNMATCHED, 20, log_id=f"0-{new_id()}", phone_number_id=number)
    early = log_entry(None, LogStatus.UNMATCHED, 10, log_id=f"9-{new_id()}", phone_number_id=number)
    gone = log_entry(None, LogStatus.UNMATCHED, 5, phone_number_id=number)
    ports.webhook_log.record([late, early, gone, log_entry(None, LogStatus.UNMATCHED, 1, phone_number_id=other_number)])
    ports.webhook_log.set_status(gone.id, LogStatus.PROCESSED, at(30))
    ports.webhook_log.record([log_entry(None, LogStatus.UNMATCHED, 40, log_id=early.id, phone_number_id=number)])
    # When the number's unmatched entries are listed
    listed = ports.webhook_log.unmatched(number).items
    # Then they are its unmatched ones (by log id: a kept set, not a timeline; a redelivered one
    # once), with what a replay needs; the processed one is still kept until a replay releases it
    assert sorted(e.id for e in listed) == sorted([early.id, late.id, gone.id])
    first = next(e for e in listed if e.id == early.id)
    assert (first.archive_key, first.field, first.status, first.phone_number_id) == (
        ARCHIVE_KEY,
        "history",
        LogStatus.UNMATCHED,
        number,
    )


def test_an_unmatched_entry_is_attached_once(ports: Ports) -> None:
    # Given an unmatched entry, and the connection later created for its number
    number = unique_number("2099")
    entry = log_entry(None, LogStatus.UNMATCHED, phone_number_id=number, error="no connection for this number")
    ports.webhook_log.record([entry])
    connection = connect(ports, phone_number_id=number)
    target = ConnectionTarget(connection.id, connection.organization_id)
    # When it is attached twice
    first, second = ports.webhook_log.attach(entry.id, target), ports.webhook_log.attach(entry.id, target)
    # Then it is attached once: routed, in the connection's log, no longer unmatched
    assert (first, second) == (True, False)
    [record] = ports.reader.logs(connection.id, limit=10, cursor=None).items
    assert (record.id, record.status, record.error) == (entry.id, "routed", None)
    assert [e.id for e in ports.webhook_log.unmatched(number).items] == [entry.id]  # kept until released
    ports.webhook_log.release(number, entry.id)
    ports.webhook_log.release(number, entry.id)
    assert ports.webhook_log.unmatched(number).items == []
