"""The operator commands (``make reconcile``, ``make replay``, ``make redrive``) against the running
local stack, as a developer runs them from another terminal: separate processes that find the stack
at ``127.0.0.1:$PORT``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import pytest

from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.builders.events import meta_bytes
from tests.chaos.replay import command
from tests.localstack import api, post_webhook, wait_drained
from tests.waiting import wait_until
from whatrack.domain.changes import ChangeMessage, WebhookField

pytestmark = pytest.mark.e2e

CUSTOMER = "5491166660009"
T0 = 1751400000


def webhook_statuses(stack: LocalStack, key: str, connection_id: str) -> list[str]:
    _, body = api(stack, "GET", f"/connections/{connection_id}/logs?limit=100", key=key)
    return [log["status"] for log in body["logs"] if log["kind"] == "webhook"]


def test_reconcile_replay_and_redrive_work_on_the_running_stack(stack: LocalStack) -> None:
    # Given a connection of a fresh number with one live message processed
    number = str(int(time.time() * 1000))[-15:]
    _, created = api(stack, "POST", "/admin/organizations", {"name": "Ops"}, "local-admin-key")
    key = created["apiKey"]
    status, body = api(
        stack,
        "POST",
        "/connections",
        {"phoneNumberId": number, "wabaId": "401122334455667", "mode": "cloud_api", "syncHistory": False},
        key,
    )
    assert status == 201
    connection_id = body["connection"]["id"]
    document = b.live("wamid.OPS", CUSTOMER, T0)
    document["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number
    assert post_webhook(stack, meta_bytes(document)) == 200
    wait_until(lambda: webhook_statuses(stack, key, connection_id) == ["processed"], "the live message processed")
    # When the reconciler sweeps (anything with no outcome counts as stuck)
    swept = json.loads(command(stack, "reconcile.py", "--after", "0").split("\n", 1)[1])
    # Then it answers its findings (the processed change is not among them)
    assert {"pages", "stuck", "redriven", "unmatchedRouted", "unmatchedWaiting", "givenUp"} == set(swept)
    # When the connection's changes are replayed from the archive
    replayed = command(stack, "replay.py", "--connection", connection_id, "--from", "2000-01-01T00:00:00Z")
    # Then the one change was re-delivered, and is still processed once
    assert "1 re-delivered from the archive" in replayed
    wait_until(
        lambda: "archive_replayed" in str(api(stack, "GET", f"/connections/{connection_id}/logs", key=key)[1]),
        "the replay in the connection's logs",
    )
    wait_drained(stack)
    assert webhook_statuses(stack, key, connection_id) == ["processed"]
    # When the change's message waits in the live messages' dead-letter queue and it is redriven
    [log] = [
        entry
        for entry in api(stack, "GET", f"/connections/{connection_id}/logs", key=key)[1]["logs"]
        if entry["kind"] == "webhook"
    ]
    dead = ChangeMessage(
        field=WebhookField.MESSAGES,
        log_id=log["id"],
        connection_id=connection_id,
        organization_id=created["organization"]["id"],
        archive_key=log["archiveKey"],
        entry_index=0,
        change_index=0,
        received_at=datetime.now(UTC),
    )
    assert stack.provisioned is not None
    sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint)
    sqs.send_message(QueueUrl=stack.provisioned.queues["LiveMessagesDeadLetterQueue"], MessageBody=dead.encode())
    report = command(stack, "redrive.py", "--queue", "LiveMessagesDeadLetterQueue")
    # Then it was moved back to its source queue (or, first, taken by the dead-letter queue's own
    # consumer, which leaves a processed change processed), and nothing is left; nothing changed
    assert "LiveMessagesDeadLetterQueue" in report
    assert "moved 1, left 0" in report or "moved 0, left 0" in report, report
    wait_drained(stack)
    assert webhook_statuses(stack, key, connection_id) == ["processed"]
