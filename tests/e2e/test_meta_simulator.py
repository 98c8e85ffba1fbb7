"""The local stack with its Meta simulator, as ``make demo`` runs it: Meta's webhooks reach the stack
signed, and a send's statuses come back by themselves, in Meta's shape, and are processed."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from devstack.meta import MetaSimulator
from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.localstack import ADMIN_KEY, api
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PNID, WABA, TOKEN, CUSTOMER = "309900000000777", "409900000000777", "EAAG-e2e-sim", "5511966667777"


def webhook_log(stack: LocalStack, key: str, connection_id: str) -> list[dict[str, Any]]:
    status, body = api(stack, "GET", f"/connections/{connection_id}/logs?limit=100", key=key)
    assert status == 200, body
    return [entry for entry in body["logs"] if entry["kind"] == "webhook"]


def test_a_sends_statuses_come_back_signed_and_are_processed(stack: LocalStack, graph: MetaSimulator) -> None:
    # Given a number connected with its token (checked with the simulator), whose customer just wrote
    graph.business(WABA, PNID, token=TOKEN, display=b.BIZ)
    _, created = api(stack, "POST", "/admin/organizations", {"name": "Loja Simulada"}, ADMIN_KEY)
    key = created["apiKey"]
    body = {"phoneNumberId": PNID, "wabaId": WABA, "mode": "cloud_api", "syncHistory": False, "accessToken": TOKEN}
    status, connected = api(stack, "POST", "/connections", body, key)
    assert status == 201, connected
    connection_id = connected["connection"]["id"]
    assert graph.deliver(b.for_number(b.live("wamid.sim.in", CUSTOMER, int(time.time())), PNID, WABA)) == 200

    # When the business answers through Graph (as the outbox will)
    send = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "Oi! Já vejo."}}
    request = urllib.request.Request(
        f"{graph.base_url}/v24.0/{PNID}/messages",
        data=json.dumps({**send, "biz_opaque_callback_data": "client-msg-1"}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        wamid = json.loads(response.read())["messages"][0]["id"]

    # Then Meta's three statuses reach the stack, are acknowledged, and each change is processed
    def statuses_posted() -> list[str]:
        return [
            s["status"]
            for raw, answered in graph.webhooks.posted
            if answered == 200
            for s in json.loads(raw)["entry"][0]["changes"][0]["value"].get("statuses", [])
            if s["id"] == wamid
        ]

    wait_until(lambda: sorted(statuses_posted()) == ["delivered", "read", "sent"], "three acknowledged statuses")
    wait_until(
        lambda: [e["status"] for e in webhook_log(stack, key, connection_id)] == ["processed"] * 4,
        "the live message and the three statuses processed",
        seen=lambda: [e["status"] for e in webhook_log(stack, key, connection_id)],
    )
    assert graph.webhooks.given_up == []
