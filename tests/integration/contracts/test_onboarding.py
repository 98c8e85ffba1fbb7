"""Port contract: onboarding with Meta — sync-request intents, reconnection, checks, alerts, retries."""

from __future__ import annotations

from dataclasses import replace

from tests.integration.contracts.support import (
    Ports,
    at,
    connect,
    log_entry,
    stored,
    unique_number,
)
from whatrack.domain.changes import WebhookField
from whatrack.domain.connections import ConnectionStatus, HistorySyncStatus
from whatrack.domain.history import CHUNK_FAILED_CODE
from whatrack.domain.log import LogStatus
from whatrack.domain.onboarding import SyncOutcome, SyncType


# =========================================================================== sync requests
def test_a_sync_request_is_begun_once_and_answered(ports: Ports) -> None:
    # Given a connection with no request
    connection = connect(ports)
    # When the history intent is saved twice, then answered
    first = ports.sync.begin_request(connection.id, SyncType.HISTORY, at(0))
    second = ports.sync.begin_request(connection.id, SyncType.HISTORY, at(1))
    pending = stored(ports, connection.id).sync_request(SyncType.HISTORY)
    ports.sync.finish_request(connection.id, SyncType.HISTORY, SyncOutcome.ACCEPTED, at(2), request_id="req-1")
    # Then only the first intent was saved, and the answer completes it
    assert (first, second) == (True, False)
    assert pending is not None and (pending.outcome, pending.requested_at) == (SyncOutcome.PENDING, at(0))
    accepted = stored(ports, connection.id).sync_request(SyncType.HISTORY)
    assert accepted is not None
    assert (accepted.outcome, accepted.request_id, accepted.answered_at) == (SyncOutcome.ACCEPTED, "req-1", at(2))
    assert ports.sync.begin_request(connection.id, SyncType.HISTORY, at(3)) is False


def test_only_a_refused_request_may_begin_again(ports: Ports) -> None:
    # Given a contacts request Meta refused and a history request whose answer was lost
    connection = connect(ports)
    for sync_type, outcome in ((SyncType.CONTACTS, SyncOutcome.FAILED), (SyncType.HISTORY, SyncOutcome.UNKNOWN)):
        ports.sync.begin_request(connection.id, sync_type, at(0))
        ports.sync.finish_request(
            connection.id, sync_type, outcome, at(1), error_code="131000", error_message="Something went wrong"
        )
    refused = stored(ports, connection.id).sync_request(SyncType.CONTACTS)
    # When both are begun again
    contacts_again = ports.sync.begin_request(connection.id, SyncType.CONTACTS, at(5))
    history_again = ports.sync.begin_request(connection.id, SyncType.HISTORY, at(5))
    # Then the refused one starts over (its error cleared), the lost one is never re-sent blindly
    assert refused is not None and (refused.error_code, refused.error_message) == ("131000", "Something went wrong")
    assert (contacts_again, history_again) == (True, False)
    retried = stored(ports, connection.id).sync_request(SyncType.CONTACTS)
    assert retried is not None and (retried.outcome, retried.error_code, retried.requested_at) == (
        SyncOutcome.PENDING,
        None,
        at(5),
    )


def test_an_answer_without_a_pending_intent_changes_nothing(ports: Ports) -> None:
    # Given a connection whose history request was accepted
    connection = connect(ports)
    ports.sync.begin_request(connection.id, SyncType.HISTORY, at(0))
    ports.sync.finish_request(connection.id, SyncType.HISTORY, SyncOutcome.ACCEPTED, at(1), request_id="req-1")
    # When a stray failure answer arrives, and an answer for a request never begun
    ports.sync.finish_request(connection.id, SyncType.HISTORY, SyncOutcome.FAILED, at(2), error_code="x")
    ports.sync.finish_request(connection.id, SyncType.CONTACTS, SyncOutcome.ACCEPTED, at(2), request_id="req-2")
    # Then the accepted request stands and no contacts request appears
    found = stored(ports, connection.id)
    history = found.sync_request(SyncType.HISTORY)
    assert history is not None and (history.outcome, history.request_id) == (SyncOutcome.ACCEPTED, "req-1")
    assert found.sync_request(SyncType.CONTACTS) is None


# =========================================================================== reconnect, checks
def test_a_number_is_found_by_its_phone_number_id(ports: Ports) -> None:
    # Given a connection
    connection = connect(ports)
    # Then its number finds it, and an unknown number finds nothing
    found = ports.connections.find_by_phone_number_id(connection.phone_number_id)
    assert found is not None and found.id == connection.id
    assert ports.connections.find_by_phone_number_id(unique_number("2099")) is None


def test_only_a_disconnected_number_reconnects(ports: Ports) -> None:
    # Given an unverified connection, still active
    connection = connect(ports)
    # When it is reconnected while active, then after a disconnection (with a verified token)
    while_active = ports.connections.reconnect(connection, at(5), access_token_secret_id="arn:new", verified=True)
    ports.connections.set_status(connection.id, ConnectionStatus.DISCONNECTED, at(10))
    after = ports.connections.reconnect(connection, at(20), access_token_secret_id="arn:new", verified=True)
    # Then only the second applied: active again, verified, with the new token, at that time
    assert (while_active, after) == (False, True)
    found = stored(ports, connection.id)
    assert (found.connection_status, found.verified, found.access_token_secret_id, found.status_changed_at) == (
        ConnectionStatus.ACTIVE,
        True,
        "arn:new",
        at(20),
    )


def test_a_verified_connection_owns_its_wabas_account_updates(ports: Ports) -> None:
    # Given two connections of one WABA: one verified by its token, one typed in by another organization
    owner = connect(ports, verified=True)
    squatter = connect(ports, waba_id=owner.waba_id, display=None)
    # When an account_update of that WABA is matched
    targets = ports.directory.targets_for_waba(owner.waba_id, None)
    # Then only the verified connection receives it
    assert [t.connection_id for t in targets] == [owner.id]
    assert squatter.id not in {t.connection_id for t in ports.directory.targets_for_waba(owner.waba_id, "123")}


def test_without_a_verified_connection_every_connection_of_the_waba_receives_it(ports: Ports) -> None:
    # Given two unverified connections of one WABA
    first = connect(ports, display=None)
    second = connect(ports, waba_id=first.waba_id, display=None)
    # Then both receive its account updates
    targets = ports.directory.targets_for_waba(first.waba_id, None)
    assert {t.connection_id for t in targets} == {first.id, second.id}


def test_every_connection_is_in_the_round_and_checks_are_recorded(ports: Ports) -> None:
    # Given two connections of two organizations
    first, second = connect(ports), connect(ports)
    # When one is marked checked
    ports.connections.mark_checked(first.id, at(30))
    # Then the round lists both, with the check time on the first only
    round_ = {c.id: c for c in ports.connections.all_connections()}
    assert {first.id, second.id} <= set(round_)
    assert (round_[first.id].last_checked_at, round_[second.id].last_checked_at) == (at(30), None)


# =========================================================================== alerts and retries
def test_an_alert_moves_only_from_the_expected_one(ports: Ports) -> None:
    # Given a connection without an alert
    connection = connect(ports)
    # When an alert is raised, raised again from "none", moved, and cleared from a wrong one
    raised = ports.sync.set_alert(connection.id, "no_history_received", at(0), expected=None)
    twice = ports.sync.set_alert(connection.id, "no_history_received", at(0), expected=None)
    moved = ports.sync.set_alert(connection.id, "stalled", at(9), expected="no_history_received")
    wrong = ports.sync.set_alert(connection.id, None, None, expected="no_history_received")
    mid = stored(ports, connection.id)
    cleared = ports.sync.set_alert(connection.id, None, None, expected="stalled")
    # Then each transition happened once, from the state it expected
    assert (raised, twice, moved, wrong, cleared) == (True, False, True, False, True)
    assert (mid.alert_code, mid.alert_since) == ("stalled", at(9))
    assert (stored(ports, connection.id).alert_code, stored(ports, connection.id).alert_since) == (None, None)


def test_a_sync_failed_on_a_chunk_resumes_where_it_was(ports: Ports) -> None:
    # Given one sync that had completed and one still syncing, both then with a chunk that kept
    # failing (the completed one stays completed), and one declined by the business
    completed, syncing, declined = connect(ports), connect(ports), connect(ports)
    for connection in (completed, syncing):
        ports.sync.chunk_arrived(connection.id, 1, 1, 40, at(0))
    ports.sync.complete(completed.id, at(1))
    for connection in (completed, syncing):
        ports.sync.stop(connection.id, HistorySyncStatus.FAILED, CHUNK_FAILED_CODE, "kept failing", at(2))
    ports.sync.stop(declined.id, HistorySyncStatus.DECLINED, "2593109", "declined", at(2))
    # When each is resumed
    results = [ports.sync.resume(c.id) for c in (completed, syncing, declined)]
    # Then the chunk failure goes back (error cleared); the completed one and the decline stay
    assert results == [False, True, False]
    states = [stored(ports, c.id).history for c in (completed, syncing, declined)]
    assert [s.status for s in states] == [
        HistorySyncStatus.COMPLETED,
        HistorySyncStatus.SYNCING,
        HistorySyncStatus.DECLINED,
    ]
    assert (states[0].error_code, states[1].error_code) == (None, None)


def test_failed_changes_are_listed_and_retried_once(ports: Ports) -> None:
    # Given a connection with a history change and a contacts change that kept failing, and a processed one
    connection = connect(ports)
    failed = replace(log_entry(connection, LogStatus.ROUTED, 1), correlation_id="req-1", event_at=at(0))
    other_field = replace(log_entry(connection, LogStatus.ROUTED, 2), field="smb_app_state_sync")
    processed = log_entry(connection, LogStatus.PROCESSED, 3)
    ports.webhook_log.record([failed, other_field, processed])
    for entry, field in ((failed, WebhookField.HISTORY), (other_field, WebhookField.STATE_SYNC)):
        assert ports.webhook_log.mark_failed(entry.id, at(5), "kept failing", connection_id=connection.id, field=field)
    assert not ports.webhook_log.mark_failed(  # an entry that was never logged cannot fail
        "no-such-entry", at(5), "kept failing", connection_id=connection.id, field=WebhookField.HISTORY
    )
    # When the failed history changes are listed and retried twice
    listed = ports.webhook_log.failed(connection.id, WebhookField.HISTORY)
    first, second = ports.webhook_log.retry(failed.id, at(10)), ports.webhook_log.retry(failed.id, at(11))
    # Then only that change was listed, it moved back to routed once, and is no longer listed
    assert [e.id for e in listed] == [failed.id]
    assert (listed[0].archive_key, listed[0].entry_index) == (failed.archive_key, failed.entry_index)
    assert (listed[0].correlation_id, listed[0].event_at, listed[0].error) == ("req-1", at(0), "kept failing")
    assert (first, second) == (True, False)
    assert ports.webhook_log.failed(connection.id, WebhookField.HISTORY) == []
    assert ports.webhook_log.retry(processed.id, at(12)) is False
