"""Drive ``make run``'s stack over HTTP like Meta, the dashboard and a developer would."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from devstack.server import LocalStack
from tests.builders.events import meta_bytes
from tests.builders.samples import SAMPLES
from tests.localstack import api, post_webhook, queue_depth, request
from tests.waiting import wait_until
from whatrack.webhooks.signature import sign

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tenant(stack: LocalStack) -> dict[str, Any]:
    status, created = api(stack, "POST", "/admin/organizations", {"name": "Loja Centro"}, "local-admin-key")
    assert status == 201
    status, body = api(
        stack,
        "POST",
        "/connections",
        {
            "phoneNumberId": "209988776655443",
            "wabaId": "401122334455667",
            "displayPhoneNumber": "5491155550100",
            "mode": "coexistence",
            "syncHistory": True,
            "displayName": "Loja Centro",
        },
        created["apiKey"],
    )
    assert status == 201
    return {"key": created["apiKey"], "connection": body["connection"]}


def test_health_and_handshake(stack: LocalStack) -> None:
    status, body, _ = request(stack, "GET", "/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, body, headers = request(
        stack, "GET", "/webhook?hub.mode=subscribe&hub.verify_token=local-verify-token&hub.challenge=987654"
    )
    assert (status, body) == (200, b"987654") and headers["Content-Type"].startswith("text/plain")
    status, _, _ = request(stack, "GET", "/webhook?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")
    assert status == 403


def test_openapi_is_served(stack: LocalStack) -> None:
    status, body, _ = request(stack, "GET", "/openapi.json")
    assert status == 200 and "/connections" in json.loads(body)["paths"]


def test_signed_webhooks_reach_their_consumers(stack: LocalStack, tenant: dict[str, Any]) -> None:
    cases = {
        "history_chunk": "HistoryQueue",
        "state_sync": "ContactsQueue",
        "echo_text": "EchoesQueue",
        "messages_text": "LiveMessagesQueue",
        "account_update_partner_removed": "AccountUpdatesQueue",
    }
    before = {p.name: p.batches for p in stack.pollers}
    for sample in cases:
        assert post_webhook(stack, meta_bytes(SAMPLES[sample])) == 200
    # every queue drains: each change was delivered to its consumer and acknowledged
    wait_until(lambda: all(queue_depth(stack, q) == 0 for q in cases.values()), "the five queues to drain", steady=3)
    consumed = {p.name for p in stack.pollers if p.batches > before[p.name]}
    assert len(consumed) == len(cases)
    status, body = api(stack, "GET", f"/connections/{tenant['connection']['id']}", key=tenant["key"])
    assert status == 200
    sync = body["connection"]["historySync"]
    assert (sync["status"], sync["progress"], sync["messagesImported"], sync["mediaPending"]) == ("syncing", 40, 2, 1)


def test_bad_signatures_are_refused(stack: LocalStack, tenant: dict[str, Any]) -> None:
    raw = meta_bytes(SAMPLES["messages_text"])
    assert post_webhook(stack, raw, secret="wrong") == 401
    status, body, _ = request(stack, "POST", "/webhook", raw, {"content-type": "application/json"})
    assert status == 401 and json.loads(body)["error"]["code"] == "unauthorized"


def test_binary_content_type_is_base64_encoded_by_the_front_and_still_verifies(
    stack: LocalStack, tenant: dict[str, Any]
) -> None:
    raw = meta_bytes(SAMPLES["state_sync"])
    status, _, _ = request(
        stack,
        "POST",
        "/webhook",
        raw,
        {"content-type": "application/octet-stream", "x-hub-signature-256": sign(raw, "local-app-secret")},
    )
    assert status == 200


def test_signed_garbage_is_acknowledged(stack: LocalStack) -> None:
    assert post_webhook(stack, b"definitely not json") == 200
    assert post_webhook(stack, b'{"object": "page", "entry": []}') == 200


def test_too_large_body_is_413(stack: LocalStack) -> None:
    raw = b" " * (10 * 1024 * 1024 + 1)
    assert post_webhook(stack, raw) == 413


def test_connection_api_over_http(stack: LocalStack, tenant: dict[str, Any]) -> None:
    connection_id = tenant["connection"]["id"]
    status, body = api(stack, "GET", f"/connections/{connection_id}", key=tenant["key"])
    assert status == 200 and body["connection"]["id"] == connection_id
    assert api(stack, "GET", "/connections")[0] == 401
    status, other = api(stack, "POST", "/admin/organizations", {"name": "Other"}, "local-admin-key")
    assert api(stack, "GET", f"/connections/{connection_id}", key=other["apiKey"])[0] == 404
    status, conflict = api(
        stack,
        "POST",
        "/connections",
        {"phoneNumberId": "209988776655443", "wabaId": "401", "mode": "cloud_api"},
        other["apiKey"],
    )
    assert status == 409 and conflict["error"]["code"] == "phone_number_already_connected"


def test_a_poison_message_goes_to_the_dlq_and_is_dropped_there_with_an_error(stack: LocalStack) -> None:
    # Given a body that is not a change message (only a bug could write one: Meta's data is archived)
    assert stack.provisioned is not None
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    sqs.send_message(QueueUrl=stack.provisioned.queues["EchoesQueue"], MessageBody='{"poison": true}')
    # Then it is retried, dead-lettered, and the dead-letter consumer drops it (with an error log and
    # a ChangesFailed count): the echo consumer never deletes it, so only that can empty both queues
    wait_until(
        lambda: queue_depth(stack, "EchoesQueue") == queue_depth(stack, "EchoesDeadLetterQueue") == 0,
        "the poison message to be dead-lettered and dropped",
        steady=3,
    )


def test_the_dashboard_is_served_at_the_root_with_its_config_and_nothing_else_leaks(stack: LocalStack) -> None:
    # The page, an asset and the run-time configuration, each with its type and the security headers
    status, page, headers = request(stack, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"<html" in page.lower()
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert request(stack, "GET", "/index.html")[1] == page
    status, _, headers = request(stack, "GET", "/assets/app.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    status, body, headers = request(stack, "GET", "/config.json")
    config = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert set(config) == {"metaAppId", "esConfigId", "graphApiVersion", "apiBaseUrl"} and config["apiBaseUrl"] == ""
    # Files outside the dashboard, missing assets and traversal are 404s; the API is unaffected
    for path in ("/template.yaml", "/assets/missing.js", "/assets/../../template.yaml", "/assets/%2e%2e/index.html"):
        assert request(stack, "GET", path)[0] == 404, path
    assert request(stack, "GET", "/connections")[0] == 401
