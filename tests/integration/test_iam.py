"""Least privilege, proven by use: every AWS call each function makes during a whole onboarding
(every reference payload, a merge of two leads, a big contact sync, dead letters, the retry, a
replay job, a reconciler sweep, media downloads, the watchdog's media sweeps) is allowed by that
function's policy in ``template.yaml``.

moto does not enforce IAM, so a missing grant passes every other test and fails only in AWS (the
calls are recorded at botocore, per function, and mapped to the IAM actions AWS checks: a
``TransactWriteItems`` needs the action of each item in it)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import boto3
import pytest

from devstack.meta import MetaSimulator, meta_error
from devstack.provision import Provisioned
from devstack.runtime import ApiCall, LambdaContext, around_api_calls, invoking
from functions.reconciler import app as reconciler_app
from tests.builders import payloads as b
from tests.builders.samples import SAMPLES
from tests.integration.harness import Onboarding
from whatrack.domain.clock import utcnow
from whatrack.wiring import reconciler as reconciler_wiring
from whatrack.wiring import watchdog as watchdog_wiring

CUSTOMER = "5491166660001"
T0 = 1751400000
TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
SAME_ACTION = {"sqs:SendMessageBatch": "sqs:SendMessage", "sqs:DeleteMessageBatch": "sqs:DeleteMessage"}


def iam_actions(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    if service == "dynamodb" and operation == "TransactWriteItems":
        return {f"dynamodb:{TRANSACT[kind]}" for item in params["TransactItems"] for kind in item}
    action = f"{service}:{operation}"
    return {SAME_ACTION.get(action, action)}


@contextmanager
def recording() -> Iterator[dict[str, set[str]]]:
    """The IAM actions of every AWS call made while a function runs, by function."""
    used: dict[str, set[str]] = defaultdict(set)
    lock = threading.Lock()

    def recorded(call: ApiCall, client: Any, operation: str, params: dict[str, Any]) -> Any:
        function = invoking.get()
        if function is not None:
            with lock:
                used[function] |= iam_actions(client.meta.service_model.service_name, operation, params)
        return call(client, operation, params)

    with around_api_calls(recorded):
        yield used


@contextmanager
def as_function(logical_id: str) -> Iterator[None]:
    token = invoking.set(logical_id)
    try:
        yield
    finally:
        invoking.reset(token)


def granted(template: dict[str, Any], logical_id: str) -> set[str]:
    actions: set[str] = set()
    for policy in template["Resources"][logical_id]["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []):
            found = statement["Action"]
            actions |= set(found if isinstance(found, list) else [found])
    return actions


class Recorded(Onboarding):
    """The harness, with the HTTP functions (called directly by the harness) named as functions."""

    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        with as_function("StatusApiFunction"):
            return super().api(method, path, body, headers)

    def connect_organization(self) -> str:
        with as_function("StatusApiFunction"):
            return super().connect_organization()

    def post(self, document: Any) -> int:
        with as_function("WebhookIngestFunction"):
            return super().post(document)


def dead_letter_one(aws: Provisioned, queue: str) -> None:
    sqs = boto3.client("sqs")
    [record] = sqs.receive_message(QueueUrl=aws.queues[queue], MaxNumberOfMessages=1)["Messages"]
    sqs.send_message(QueueUrl=aws.queues[queue.replace("Queue", "DeadLetterQueue")], MessageBody=record["Body"])
    sqs.delete_message(QueueUrl=aws.queues[queue], ReceiptHandle=record["ReceiptHandle"])


def with_user_id(document: dict[str, Any], user_id: str) -> dict[str, Any]:
    value = document["entry"][0]["changes"][0]["value"]
    for contact in value.get("contacts", []):
        contact["user_id"] = user_id
    for message in value.get("messages", []):
        message["from_user_id"] = user_id
    for item in value.get("state_sync", []):
        item["contact"]["user_id"] = user_id
    return document


def test_every_call_a_function_makes_is_granted_to_it(
    aws: Provisioned, graph: MetaSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with recording() as used:
        ob = Recorded(aws)
        # changes kept before the connection exists, replayed by a job once it does
        ob.post(b.live("wamid.early", CUSTOMER, T0 - 60))
        ob.connect()
        ob.pump()
        # every reference payload
        for name in sorted(SAMPLES):
            ob.deliver(SAMPLES[name])
        # one person known as two leads (a history thread by user id, then live messages by phone
        # with an open ticket) merged by a message showing both: the newer lead's ticket moves
        other = "5491177770002"
        ob.deliver(
            b.chunk(2, 1, 90, b.thread(None, b.text("wamid.H9", None, T0, from_user_id="AR.77"), user_id="AR.77"))
        )
        ob.deliver(b.live("wamid.ticket", other, T0))
        ob.deliver(with_user_id(b.live("wamid.both", other, T0 + 10), "AR.77"))
        # a contact sync larger than one batch (checkpointed), with a person showing both ids
        many = [("add", f"55119{index:08d}", f"Pessoa {index}") for index in range(150)]
        ob.deliver(with_user_id(b.contacts(("add", CUSTOMER, "Cliente")), "AR.1"), b.contacts(*many))
        # a dead letter on every queue, the card's retry, a replay job and a reconciler sweep
        for document, queue in (
            (b.chunk(0, 9, 95, b.thread(CUSTOMER, b.text("wamid.dl.h", CUSTOMER, T0))), "HistoryQueue"),
            (b.contacts(("remove", "5511900000001", None)), "ContactsQueue"),
            (b.echo("wamid.dl.e", CUSTOMER, T0), "EchoesQueue"),
            (b.live("wamid.dl.l", CUSTOMER, T0), "LiveMessagesQueue"),
            (b.account_update("PARTNER_ADDED", T0 + 5), "AccountUpdatesQueue"),
        ):
            assert ob.post(document) == 200
            dead_letter_one(aws, queue)
        ob.pump()
        status, _ = ob.api("POST", f"/connections/{ob.connection['id']}/history-sync/retry")
        assert status == 202
        ob.pump()
        reconciler = reconciler_wiring.reconciler()
        later = utcnow() + timedelta(hours=4)
        monkeypatch.setattr(reconciler, "_clock", lambda: later)
        with as_function("ReconcilerFunction"):
            reconciler_app.lambda_handler({"source": "aws.events"}, LambdaContext("reconciler", 512, 300))
        ob.pump()
        # the watchdog's media sweeps, a week later: a placeholder Meta never completed, a lost job
        recent = int(utcnow().timestamp()) - 86_400
        ob.deliver(b.chunk(2, 2, 100, b.thread(CUSTOMER, b.placeholder("wamid.sweep.p", CUSTOMER, recent))))
        # a live photo whose download job is lost (the media queue's poller is away, the queue purged)
        pollers = ob.pollers
        ob.pollers = [poller for poller in pollers if "MediaFetchFunction" not in poller.name]
        ob.deliver(b.live_raw("wamid.sweep.m", CUSTOMER, recent, "image", {"id": "m1", "mime_type": "image/png"}))
        boto3.client("sqs").purge_queue(QueueUrl=aws.queues["MediaQueue"])
        ob.pollers = pollers
        watchdog = watchdog_wiring.watchdog()
        week_later = utcnow() + timedelta(days=8)
        monkeypatch.setattr(watchdog, "_clock", lambda: week_later)
        with as_function("WatchdogFunction"):
            report = watchdog.run()
        assert (report.media_requeued, report.placeholders_given_up, report.errors) == (1, 1, 0)
        # an agent adds a person and starts a conversation (§7a)
        status, made = ob.api("POST", "/leads", {"phoneNumber": "+5511955550123", "pushName": "Nova"})
        assert status == 201, made
        ticket_body = {"leadId": made["lead"]["id"], "connectionId": ob.connection["id"], "source": "manual"}
        assert ob.api("POST", "/tickets", ticket_body)[0] == 201
        # an agent's reply, sent by the outbox to Meta (a number with a token, of another organization)
        replier = Recorded(aws)
        graph.business("401122334455999", "209988776655999", token="EAAG-iam-replies")
        replier.connect("209988776655999", accessToken="EAAG-iam-replies", wabaId="401122334455999")
        now = int(utcnow().timestamp())
        replier.deliver(b.for_number(b.live("wamid.iam.in", CUSTOMER, now), "209988776655999", "401122334455999"))
        graph.messaging.customer_wrote("209988776655999", CUSTOMER)
        _, tickets = replier.api("GET", f"/tickets?connectionId={replier.connection['id']}")
        reply_path = f"/tickets/{tickets['tickets'][0]['id']}/messages"
        answered = replier.api("POST", reply_path, {"text": "Oi!"}, {"idempotency-key": "iam-1"})
        assert answered[0] == 202, answered
        graph.fail_next("messages", meta_error("(#80007) Rate limit issues", 80007))  # throttled once
        replier.pump()
        time.sleep(2.5)  # the throttled send waits 2 s (not the queue's 180)
        replier.pump()
        assert len(graph.messaging.sent) == 1
        with as_function("StatusApiFunction"):  # the dashboard's reads
            for path in ("/connections", f"/connections/{ob.connection['id']}/history-sync", "/leads", "/tickets"):
                status, _ = Onboarding.api(ob, "GET", path)
                assert status == 200
    assert {"WebhookIngestFunction", "StatusApiFunction", "HistoryChunkFunction", "StateSyncFunction"} <= set(used)
    assert {"EchoFunction", "LiveMessageFunction", "UnmatchedReplayFunction", "ReconcilerFunction"} <= set(used)
    assert {"MediaFetchFunction", "WatchdogFunction", "ReplySendFunction"} <= set(used)
    missing = {name: sorted(actions - granted(aws.template, name)) for name, actions in used.items()}
    assert {name: actions for name, actions in missing.items() if actions} == {}
