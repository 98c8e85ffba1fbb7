"""Issue 8's outcome through the local stack, Meta's Graph API faked on 127.0.0.1: a token verifies the
number and triggers both requests in order; a second request is refused; a number that never receives
history gets the alert on its card and in its logs; failed chunks are retried; a disconnected number
comes back to its organization."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.faults import FaultInjector
from devstack.meta import MetaSimulator
from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.builders.events import meta_bytes
from tests.localstack import api, post_webhook
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

T0 = 1751400000


def organization(stack: LocalStack, name: str) -> str:
    status, created = api(stack, "POST", "/admin/organizations", {"name": name}, "local-admin-key")
    assert status == 201
    return str(created["apiKey"])


on = b.for_number


def card(stack: LocalStack, key: str, connection_id: str) -> dict[str, Any]:
    status, body = api(stack, "GET", f"/connections/{connection_id}", key=key)
    assert status == 200
    return dict(body["connection"])


def test_a_token_verifies_the_number_and_asks_meta_once_per_sync_type(stack: LocalStack, graph: MetaSimulator) -> None:
    pnid, waba, token = "309900000000001", "409900000000001", "EAAG-e2e-1"
    graph.business(waba, pnid, token=token)
    key = organization(stack, "Loop 1")
    body = {"phoneNumberId": pnid, "wabaId": waba, "mode": "coexistence", "syncHistory": True, "accessToken": token}
    status, created = api(stack, "POST", "/connections", body, key)
    assert status == 201, created
    connection = created["connection"]
    assert connection["verified"] is True
    assert [(r["syncType"], r["outcome"]) for r in connection["historySync"]["requests"]] == [
        ("smb_app_state_sync", "accepted"),
        ("history", "accepted"),
    ]
    assert [t for p, t in graph.sync_requests if p == pnid] == ["smb_app_state_sync", "history"]
    status, refused = api(stack, "POST", f"/connections/{connection['id']}/history-sync/request", key=key)
    assert (status, refused["error"]["code"]) == (409, "already_requested")
    assert [t for p, t in graph.sync_requests if p == pnid] == ["smb_app_state_sync", "history"]


def test_a_number_that_never_receives_history_shows_the_alert(stack: LocalStack) -> None:
    # the e2e stack runs with HISTORY_STALL_AFTER_SECONDS=3 and the watchdog every second
    key = organization(stack, "Loop 2")
    pnid, waba = "309900000000002", "409900000000002"
    body = {"phoneNumberId": pnid, "wabaId": waba, "mode": "coexistence", "syncHistory": True}
    status, created = api(stack, "POST", "/connections", body, key)
    assert status == 201
    connection_id = created["connection"]["id"]
    assert created["connection"]["historySync"]["alert"] is None

    def alerted() -> bool:
        logs = api(stack, "GET", f"/connections/{connection_id}/logs", key=key)[1]["logs"]
        return any(e["event"] == "alert_raised" for e in logs)

    wait_until(alerted, "the watchdog's no-history alert in the logs")
    alert = card(stack, key, connection_id)["historySync"]["alert"]
    assert alert is not None and alert["code"] == "no_history_received"
    logs = api(stack, "GET", f"/connections/{connection_id}/logs", key=key)[1]["logs"]
    [entry] = [e for e in logs if e["event"] == "alert_raised"]
    assert (entry["kind"], entry["status"]) == ("audit", "no_history_received")


def test_failed_chunks_are_retried_from_the_archive(stack: LocalStack) -> None:
    pnid, waba, customer = "309900000000003", "409900000000003", "5511966660009"
    key = organization(stack, "Loop 3")
    body = {"phoneNumberId": pnid, "wabaId": waba, "mode": "coexistence", "syncHistory": True}
    connection_id = api(stack, "POST", "/connections", body, key)[1]["connection"]["id"]
    chunk = on(b.chunk(1, 1, 40, b.thread(customer, b.text("wamid.loop.1", customer, T0))), pnid, waba)
    # the chunk's import keeps failing (every transaction of the history consumer is refused), so
    # SQS retries it and dead-letters it, and the dead letter marks it failed
    broken = FaultInjector(
        1.0,
        0,
        crash_share=0,
        functions=frozenset({"HistoryChunkFunction"}),
        operations=frozenset({"TransactWriteItems"}),
    )
    with broken.active():
        assert post_webhook(stack, meta_bytes(chunk)) == 200
        wait_until(lambda: card(stack, key, connection_id)["historySync"]["status"] == "failed", "the chunk failed")
    status, retried = api(stack, "POST", f"/connections/{connection_id}/history-sync/retry", key=key)
    assert (status, retried) == (202, {"retried": 1})

    def chunks() -> list[tuple[int, str]]:
        detail = api(stack, "GET", f"/connections/{connection_id}/history-sync", key=key)[1]
        return [(c["chunkOrder"], c["status"]) for c in detail["chunks"]]

    wait_until(lambda: chunks() == [(1, "processed")], "the retried chunk processed", seen=chunks)
    state = card(stack, key, connection_id)["historySync"]
    assert (state["status"], state["messagesImported"], state["error"]) == ("syncing", 1, None)
    logs = api(stack, "GET", f"/connections/{connection_id}/logs", key=key)[1]["logs"]
    assert [e["status"] for e in logs if e["kind"] == "webhook"] == ["processed"]


def test_a_disconnected_number_comes_back_to_its_organization(stack: LocalStack, graph: MetaSimulator) -> None:
    pnid, waba, token = "309900000000004", "409900000000004", "EAAG-e2e-4"
    graph.business(waba, pnid, token=token)
    key = organization(stack, "Loop 4")
    body = {"phoneNumberId": pnid, "wabaId": waba, "mode": "coexistence", "syncHistory": False, "accessToken": token}
    connection_id = api(stack, "POST", "/connections", body, key)[1]["connection"]["id"]
    # account updates apply by event time (D-21); the watchdog's first check with Meta (every second
    # here) says "active" at its own time, so the removal is dated after it, as a real one would be
    removed = on(b.account_update("PARTNER_REMOVED", time=int(time.time()) + 60), pnid, waba)
    removed["entry"][0]["changes"][0]["value"]["phone_number"] = None
    assert post_webhook(stack, meta_bytes(removed)) == 200
    wait_until(lambda: card(stack, key, connection_id)["connectionStatus"] == "disconnected", "the card disconnected")
    other = organization(stack, "Loop 4 other")
    assert api(stack, "POST", "/connections", body, other)[0] == 409
    status, again = api(stack, "POST", "/connections", body, key)
    assert status == 200, again
    assert (again["connection"]["id"], again["connection"]["connectionStatus"]) == (connection_id, "active")
