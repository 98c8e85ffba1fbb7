"""Issue 10 through the local stack: a mixed onboarding delivered while AWS calls fail at random.

Meta's side is played by the test: every webhook is posted until it is acknowledged (Meta retries a
5xx), some twice. Faults are injected into the functions' AWS calls (throttling, transaction
conflicts, 5xx, a handler dying mid-work). Whatever fails, no acknowledged change is stuck: each
ends ``processed``, ``rejected`` (with its reason) or ``failed`` (with its reason, retryable from the
archive); once retried with the faults gone, everything Meta sent is in the inbox.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from devstack.faults import FaultInjector
from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.builders.events import meta_bytes
from tests.builders.samples import demo_onboarding
from tests.chaos.replay import command
from tests.localstack import api, post_webhook, wait_drained
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

NUMBERS = {3: ("309900112233003", "409900112233003"), 10: ("309900112233010", "409900112233010")}
BIZ = "5511955550100"
OUTCOMES = {"processed", "rejected", "failed"}


def onboarding(pnid: str, waba: str) -> list[dict[str, Any]]:
    extra = [
        b.live("wamid.chaos.ms", "5511944440009", 1751400000 * 1000),  # rejected: ms timestamp
        b.echo("wamid.chaos.echo", "5511944440009", 1751400100),
        b.status("wamid.chaos.echo", "delivered", 1751400200),
        b.contacts(("add", "5511944440010", "Zé"), ("remove", "5511944440011", None)),
    ]
    return [b.for_number(doc, pnid, waba) for doc in [*(doc for _, doc in demo_onboarding()), *extra]]


def wamids(documents: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("id"), str) and node["id"].startswith("wamid.") and "type" in node:
                found.add(node["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(documents)
    return found


def webhook_log(stack: LocalStack, key: str, connection_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, page = api(stack, "GET", f"/connections/{connection_id}/logs?limit=100{cursor}", key=key)
        assert status == 200, page
        entries += [e for e in page["logs"] if e["kind"] == "webhook"]
        if not page.get("nextCursor"):
            return entries
        cursor = f"&cursor={page['nextCursor']}"


def stored_wamids(stack: LocalStack, key: str, connection_id: str) -> set[str]:
    found: set[str] = set()
    status, leads = api(stack, "GET", f"/leads?connectionId={connection_id}&limit=100", key=key)
    assert status == 200, leads
    for lead in leads["leads"]:
        status, detail = api(stack, "GET", f"/leads/{lead['id']}", key=key)
        for conversation in detail.get("conversations", []):
            status, page = api(stack, "GET", f"/conversations/{conversation['id']}/messages?limit=100", key=key)
            found |= {m["id"] for m in page.get("messages", [])}
    return found


@pytest.mark.parametrize("seed", [3, 10])
def test_every_acknowledged_change_ends_processed_rejected_or_failed_under_faults(stack: LocalStack, seed: int) -> None:
    # Given a connected number
    status, created = api(stack, "POST", "/admin/organizations", {"name": "Chaos"}, "local-admin-key")
    key = created["apiKey"]
    pnid, waba = NUMBERS[seed]
    body = {"phoneNumberId": pnid, "wabaId": waba, "displayPhoneNumber": BIZ, "mode": "coexistence"}
    status, connection = api(stack, "POST", "/connections", {**body, "syncHistory": True}, key)
    assert status == 201, connection
    connection_id = connection["connection"]["id"]
    documents = onboarding(pnid, waba)
    deliveries = documents + random.Random(10).sample(documents, 5)  # some delivered twice

    # When Meta delivers the onboarding while 12% of the functions' AWS calls fail
    with FaultInjector(rate=0.12, seed=seed).active() as faults:
        refused = 0
        for document in deliveries:
            for _ in range(40):  # Meta retries a 5xx (for days; here at once)
                answer = post_webhook(stack, meta_bytes(document))
                if answer == 200:
                    break
                assert answer >= 500, answer  # never a 4xx for a signed body
                refused += 1
            else:
                raise AssertionError("a webhook was never acknowledged")
        wait_drained(stack)
    assert faults.total > 0, "no fault was injected: the test proves nothing"

    # Then no acknowledged change is stuck on its way: each has an outcome, with a reason if not processed
    entries = webhook_log(stack, key, connection_id)
    assert entries and {e["status"] for e in entries} <= OUTCOMES, sorted({e["status"] for e in entries})
    assert all(e["error"] for e in entries if e["status"] != "processed")
    rejected = [e for e in entries if e["status"] == "rejected"]
    assert len(rejected) == 1 and "unix seconds" in rejected[0]["error"]
    failed = [e for e in entries if e["status"] == "failed"]
    print(f"faults: {faults.total} injected in {sum(faults.calls.values())} calls, {refused} deliveries refused")
    print(f"outcomes: {len(entries)} changes, {len(failed)} failed")

    # And once the failed ones are retried from the archive (faults gone: the card's retry for history,
    # the replay tool for any field), nothing Meta sent is missing and nothing is failed any more
    status, retried = api(stack, "POST", f"/connections/{connection_id}/history-sync/retry", key=key)
    assert status == 202, retried
    replayed = command(stack, "replay.py", "--connection", connection_id, "--from", "2000-01-01T00:00:00Z")
    assert f"{len(entries)} re-delivered from the archive" in replayed, replayed
    wait_drained(stack)
    wait_until(
        lambda: {e["status"] for e in webhook_log(stack, key, connection_id)} == {"processed", "rejected"},
        "every change processed (or the one rejected) after the retry",
        seen=lambda: sorted(e["status"] for e in webhook_log(stack, key, connection_id)),
    )
    assert wamids(documents) - {"wamid.chaos.ms"} <= stored_wamids(stack, key, connection_id)
