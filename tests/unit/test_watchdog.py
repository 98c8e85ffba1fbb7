"""The watchdog, failed-chunk retries and account updates, on the fakes with a clock moved by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from devstack.meta import MetaSimulator, meta_error
from tests.builders import payloads as b
from tests.fakes import Clock, InMemoryWorld
from whatrack.domain.changes import WebhookField
from whatrack.domain.connections import ConnectionMode, ConnectionRequest, ConnectionStatus, HistorySyncStatus
from whatrack.domain.errors import TransientError
from whatrack.domain.log import LogStatus

STALL = timedelta(minutes=30)
T0 = 1751400000


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def graph() -> MetaSimulator:
    fake = MetaSimulator()
    fake.business(b.WABA, b.PNID, token="EAAG-token")
    return fake


@pytest.fixture
def world(graph: MetaSimulator, clock: Clock) -> InMemoryWorld:
    return InMemoryWorld(graph=graph, clock=clock)


def card(world: InMemoryWorld, connection_id: str) -> tuple[str | None, ConnectionStatus]:
    found = world.connections.get(connection_id)
    assert found is not None
    return found.alert_code, found.connection_status


def audit(world: InMemoryWorld, connection_id: str) -> list[tuple[str | None, str | None]]:
    return [(r.event, r.status) for r in reversed(world.logs(connection_id)) if r.kind.value == "audit"]


# ---------------------------------------------------------------- stall alerts
def test_no_history_received_is_raised_once_then_cleared_when_history_arrives(
    world: InMemoryWorld, clock: Clock
) -> None:
    # Given a number waiting for history (no token: nothing asked of Meta)
    connection = world.connect()
    watchdog = world.watchdog(STALL)
    # When the watchdog runs before and after the threshold, twice after it
    early = watchdog.run()
    clock.advance(minutes=31)
    late, again = watchdog.run(), watchdog.run()
    # Then the alert is raised once: an audit entry, a notification and a metric
    assert (early.raised, late.raised, again.raised) == ([], [(connection.id, "no_history_received")], [])
    assert card(world, connection.id)[0] == "no_history_received"
    assert audit(world, connection.id) == [("alert_raised", "no_history_received")]
    [(subject, message)] = world.notifier.sent
    assert subject == "WhaTrack: no_history_received on ***0100" and connection.id in message
    assert "5491155550100" not in message  # the business's number is masked, like in the logs
    assert world.metrics.totals["StallAlertsRaised"] == 1
    # When the first chunk arrives and the watchdog runs again
    world.deliver(b.chunk(1, 1, 10, b.thread("5491166660001", b.text("wamid.1", "5491166660001", T0))))
    cleared = watchdog.run()
    # Then the alert is cleared, with its own audit entry and notification
    assert cleared.cleared == [(connection.id, "no_history_received")] and card(world, connection.id)[0] is None
    assert ("alert_cleared", "no_history_received") in audit(world, connection.id)
    assert len(world.notifier.sent) == 2 and world.metrics.totals["StallAlertsCleared"] == 1


def test_a_sync_without_new_chunks_is_stalled_and_the_card_agrees(world: InMemoryWorld, clock: Clock) -> None:
    # Given a sync that received one chunk
    connection = world.connect()
    world.deliver(b.chunk(1, 1, 10, b.thread("5491166660001", b.text("wamid.1", "5491166660001", T0))))
    # When no chunk comes for longer than the threshold
    clock.advance(minutes=45)
    world.watchdog(STALL).run()
    # Then the watchdog raised "stalled", the same alert the card derives on read
    found = world.connections.get(connection.id)
    assert found is not None and found.alert_code == "stalled"
    assert found.alert_since is not None and found.history.last_payload_at is not None
    assert found.alert_since == found.history.last_payload_at + STALL


def test_a_completed_or_declined_sync_gets_no_alert(world: InMemoryWorld, clock: Clock) -> None:
    completed = world.connect()
    world.deliver(b.chunk(0, 1, 100, b.thread("5491166660001", b.text("wamid.1", "5491166660001", T0))))
    clock.advance(days=2)
    assert world.watchdog(STALL).run().raised == [] and card(world, completed.id)[0] is None


# ---------------------------------------------------------------- daily number check
def test_numbers_with_a_token_are_checked_once_a_day(world: InMemoryWorld, graph: MetaSimulator, clock: Clock) -> None:
    # Given a verified connection and a number that has left the Business App
    request = ConnectionRequest(
        phone_number_id=b.PNID, waba_id=b.WABA, mode=ConnectionMode.COEXISTENCE, access_token="EAAG-token"
    )
    connection = world.connection_service().connect(world.organization().id, request).connection
    graph.states[b.PNID] = {"is_on_biz_app": False, "platform_type": "CLOUD_API"}
    watchdog = world.watchdog(STALL)
    # When the watchdog runs now, an hour later, and a day later
    first = watchdog.run()
    clock.advance(hours=1)
    second = watchdog.run()
    clock.advance(days=1)
    third = watchdog.run()
    # Then Meta was asked twice (once a day), and the definite answer disconnected the card
    assert (first.checked, second.checked, third.checked) == (1, 0, 1)
    assert len(graph.calls_to("number_state")) == 2
    assert card(world, connection.id)[1] is ConnectionStatus.DISCONNECTED
    assert ("connection_disconnected", None) in audit(world, connection.id)


def test_an_uncertain_check_changes_nothing_and_waits_a_day(
    world: InMemoryWorld, graph: MetaSimulator, clock: Clock
) -> None:
    request = ConnectionRequest(
        phone_number_id=b.PNID, waba_id=b.WABA, mode=ConnectionMode.COEXISTENCE, access_token="EAAG-token"
    )
    connection = world.connection_service().connect(world.organization().id, request).connection
    graph.fail_next("number_state", *[meta_error("Service unavailable", 2, 503)] * 3)
    report = world.watchdog(STALL).run()
    clock.advance(hours=2)
    again = world.watchdog(STALL).run()
    assert (report.check_failures, again.checked, again.check_failures) == (1, 0, 0)
    assert card(world, connection.id)[1] is ConnectionStatus.ACTIVE
    assert world.metrics.totals["NumberCheckFailures"] == 1


# ---------------------------------------------------------------- retry of failed chunks
def test_failed_history_changes_are_retried_from_the_archive(world: InMemoryWorld) -> None:
    # Given a chunk that kept failing and was dead-lettered: chunk, log and sync show failed
    connection = world.connect()
    world.post(
        b.chunk(1, 2, 60, b.thread("5491166660001", b.text("wamid.R", "5491166660001", T0))), correlation_id="req-1"
    )
    [dead] = world.dead_letter()
    assert world.connections.get(connection.id).history.status is HistorySyncStatus.FAILED  # type: ignore[union-attr]
    # When the business retries, and the retried change is consumed
    retried = world.chunk_retry().retry(connection.organization_id, connection.id)
    again = world.chunk_retry().retry(connection.organization_id, connection.id)
    world.pump()
    # Then one change was re-sent (the second call found nothing failed), it was imported,
    # and the sync left "failed"
    assert (retried, again) == (1, 0)
    [resent] = world.publisher.sent[-1:]
    assert (resent.log_id, resent.correlation_id, resent.by_reference) == (dead.log_id, "req-1", True)
    assert "wamid.R" in world.all_messages()
    found = world.connections.get(connection.id)
    assert found is not None and found.history.status is HistorySyncStatus.SYNCING and found.history.error_code is None
    assert world.webhook_log.entries[dead.log_id].status is LogStatus.PROCESSED
    assert world.webhook_log.failed(connection.id, WebhookField.HISTORY) == []


# ---------------------------------------------------------------- account updates
def test_account_updates_apply_by_their_time_not_their_arrival(world: InMemoryWorld) -> None:
    # Given an active connection
    connection = world.connect()
    # When a reconnection (t+100) arrives before the disconnection it followed (t+50)
    world.deliver(b.account_update("ACCOUNT_RECONNECTED", time=T0 + 100))
    world.deliver(b.account_update("PARTNER_REMOVED", time=T0 + 50))
    # Then the card stays active; a later removal (t+200) disconnects it
    assert card(world, connection.id)[1] is ConnectionStatus.ACTIVE
    world.deliver(b.account_update("PARTNER_REMOVED", time=T0 + 200))
    assert card(world, connection.id)[1] is ConnectionStatus.DISCONNECTED


def test_partner_level_events_are_matched_by_waba_info(world: InMemoryWorld) -> None:
    # Given a connection, and an ACCOUNT_OFFBOARDED naming the WABA only in value.waba_info
    connection = world.connect()
    world.deliver(b.account_update("ACCOUNT_OFFBOARDED", time=T0, waba_info=b.WABA))
    # Then it reached the connection of that WABA
    assert card(world, connection.id)[1] is ConnectionStatus.DISCONNECTED


def test_account_updates_reach_only_the_organization_that_proved_the_waba(world: InMemoryWorld) -> None:
    # Given the business's verified connection, and another organization that typed the same WABA id
    # for a number of its own (no token)
    owner_request = ConnectionRequest(
        phone_number_id=b.PNID, waba_id=b.WABA, mode=ConnectionMode.COEXISTENCE, access_token="EAAG-token"
    )
    owner = world.connection_service().connect(world.organization().id, owner_request).connection
    squatter = world.connect(phone_number_id="777000111", display_phone_number=None)
    # When Meta reports the business removed the partner
    world.deliver(b.account_update("PARTNER_REMOVED", time=T0))
    # Then only the owner's card changed
    assert (card(world, owner.id)[1], card(world, squatter.id)[1]) == (
        ConnectionStatus.DISCONNECTED,
        ConnectionStatus.ACTIVE,
    )


def test_a_notification_that_fails_is_sent_again_next_round(
    world: InMemoryWorld, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a connection past the threshold, and the topic failing once
    connection = world.connect()
    clock.advance(minutes=31)
    sent = world.notifier.notify

    def broken(subject: str, message: str) -> None:
        raise TransientError("alert notification failed (InternalError)")

    monkeypatch.setattr(world.notifier, "notify", broken)
    # When the watchdog runs, then runs again once the topic is back
    failed = world.watchdog(STALL).run()
    monkeypatch.setattr(world.notifier, "notify", sent)
    again = world.watchdog(STALL).run()
    # Then the first round stored nothing (the alert was not delivered), the second delivered it,
    # and the audit entry was written once
    assert (failed.errors, failed.raised, again.raised) == (1, [], [(connection.id, "no_history_received")])
    assert len(world.notifier.sent) == 1
    assert audit(world, connection.id) == [("alert_raised", "no_history_received")]


def test_one_connection_failing_does_not_stop_the_round(
    world: InMemoryWorld, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two connections past the threshold, the first of which fails to store its alert
    first, second = world.connect(), world.connect(phone_number_id="209988776655444")
    clock.advance(minutes=31)
    store = world.sync.set_alert

    def flaky(connection_id: str, *args: object, **kwargs: object) -> bool:
        if connection_id == first.id:
            raise TransientError("sync alert failed (ProvisionedThroughputExceededException)")
        return store(connection_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(world.sync, "set_alert", flaky)
    report = world.watchdog(STALL).run()
    # Then the second connection still got its alert
    assert report.errors == 1 and report.raised == [(second.id, "no_history_received")]
    assert world.metrics.totals["WatchdogErrors"] == 1


def test_retry_also_replays_changes_kept_for_the_number(world: InMemoryWorld) -> None:
    # Given a change that arrived before its number was connected, and a replay that failed then
    world.post(b.contacts(("add", "5491166660001", "Maria")))
    connection = world.connect()
    world.publisher.sent.clear()  # what the replay sent never reached the queue
    world.webhook_log.record(  # and its entry is still kept unmatched for the number
        [
            replace(e, status=LogStatus.UNMATCHED, connection_id=None, organization_id=None)
            for e in world.webhook_log.entries.values()
        ]
    )
    # When the business retries
    retried = world.chunk_retry().retry(connection.organization_id, connection.id)
    world.pump()
    # Then the kept change was sent again and applied
    assert retried == 1 and [lead.push_name for lead in world.all_leads()] == ["Maria"]
