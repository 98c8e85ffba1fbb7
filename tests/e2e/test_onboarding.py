"""Issue outcome through the local stack: a real onboarding, shuffled and duplicated, over HTTP."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr

from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.builders.events import meta_bytes
from tests.localstack import api, post_webhook, wait_drained
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PNID = "309988776655000"
BIZ = "5511955550100"
MARIA, JOAO, NEW = "5511966660001", "5511977770002", "5511988880003"
T0 = 1751400000


def on(doc: dict[str, Any]) -> dict[str, Any]:
    """Point a builder document at this test's connection (its own number and business phone)."""
    change = doc.get("entry", [{}])[0].get("changes", [{}])[0]
    value = change.get("value", doc)
    if "metadata" in value:
        value["metadata"] = {"display_phone_number": BIZ, "phone_number_id": PNID}
    return doc


def scan(stack: LocalStack, prefix: str) -> list[dict[str, Any]]:
    assert stack.provisioned is not None
    table = boto3.resource("dynamodb", endpoint_url=stack.aws_endpoint).Table(stack.provisioned.tables["InboxTable"])
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"FilterExpression": Attr("pk").begins_with(prefix)}
    while True:  # every page: the session's stack holds what the other tests stored too
        page = table.scan(**kwargs)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_onboarding_history_then_live_and_echoes(stack: LocalStack) -> None:
    status, created = api(stack, "POST", "/admin/organizations", {"name": "Onboarding"}, "local-admin-key")
    key = created["apiKey"]
    status, body = api(
        stack,
        "POST",
        "/connections",
        {"phoneNumberId": PNID, "wabaId": "401", "displayPhoneNumber": BIZ, "mode": "coexistence", "syncHistory": True},
        key,
    )
    assert status == 201
    connection_id = body["connection"]["id"]

    # contacts first, then history chunks shuffled and duplicated
    assert post_webhook(stack, meta_bytes(on(b.contacts(("add", MARIA, "Maria Souza"), ("add", JOAO, "João"))))) == 200
    wait_drained(stack)
    chunks = [
        on(b.chunk(0, 1, 20, b.thread(MARIA, b.text("wamid.e2e.1", MARIA, T0), b.text("wamid.e2e.2", BIZ, T0 + 60)))),
        on(
            b.chunk(
                1,
                1,
                50,
                b.thread(JOAO, b.text("wamid.e2e.3", JOAO, T0 - 86400), b.placeholder("wamid.e2e.4", JOAO, T0 - 86000)),
            )
        ),
        on(b.chunk(1, 2, 80, b.thread(MARIA, b.text("wamid.e2e.5", MARIA, T0 - 90000)))),
        on(b.chunk(2, 1, 100, b.thread(JOAO, b.text("wamid.e2e.6", BIZ, T0 - 9000000)))),
    ]
    deliveries = chunks + chunks[:2]
    random.Random(7).shuffle(deliveries)
    for chunk in deliveries:
        assert post_webhook(stack, meta_bytes(chunk)) == 200
    assert post_webhook(stack, meta_bytes(on(b.media_followup("wamid.e2e.4", JOAO, T0 - 86000)))) == 200
    wait_drained(stack)
    sync = api(stack, "GET", f"/connections/{connection_id}", key=key)[1]["connection"]["historySync"]
    assert (sync["status"], sync["progress"], sync["messagesImported"], sync["threadsImported"]) == (
        "completed",
        100,
        6,
        2,
    )
    assert (sync["contactsImported"], sync["mediaPending"]) == (2, 0)
    assert len([m for m in scan(stack, "MSG#") if m.get("connection_id") == connection_id]) == 6
    assert [t for t in scan(stack, "TICKET#") if t["connection_id"] == connection_id] == []

    # live: a history lead writes again (no window), a new contact writes (24 h window), the App echoes
    for doc in (
        b.live("wamid.e2e.L1", MARIA, T0 + 86400),
        b.live("wamid.e2e.L2", NEW, T0 + 86500),
        b.echo("wamid.e2e.E1", MARIA, T0 + 86600),
    ):
        assert post_webhook(stack, meta_bytes(on(doc))) == 200
    wait_drained(stack)
    wait_until(
        lambda: len([t for t in scan(stack, "TICKET#") if t["connection_id"] == connection_id]) == 2,
        "the connection's two tickets",
    )
    tickets = {t["originated_from"]: t for t in scan(stack, "TICKET#") if t["connection_id"] == connection_id}
    assert set(tickets) == {"history_lead", "new_contact"}
    assert "message_window_expires_at" not in tickets["history_lead"]
    assert tickets["new_contact"]["message_window_expires_at"].startswith("2025-07-03T")
    messages = {m["id"]: m for m in scan(stack, "MSG#") if m.get("connection_id") == connection_id}
    assert messages["wamid.e2e.E1"]["conversation_id"] == messages["wamid.e2e.1"]["conversation_id"]
    assert messages["wamid.e2e.E1"]["source"] == "app_echo" and messages["wamid.e2e.E1"]["direction"] == "OUTBOUND"
    card = api(stack, "GET", f"/connections/{connection_id}", key=key)[1]["connection"]
    assert card["historyLeadsWithNewMessages"] == 1 and card["badge"]["label"] == "Histórico: 100%"
