"""Issue 22 through the handlers under moto (resources from ``template.yaml``): the status API accepts a
reply, the FIFO outbox carries it to ``reply_send``, which sends it to the Meta simulator once; the
status webhooks Meta posts back move it; refusals are the contract's."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import boto3
import pytest

from devstack.meta import MetaSimulator, meta_error
from devstack.provision import Provisioned
from devstack.runtime import LambdaContext
from functions.reply_send import app as reply_send_app
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack.domain.clock import utcnow
from whatrack.entrypoints.batches import AllRecordsFailedError
from whatrack.wiring import watchdog as watchdog_wiring

TOKEN = "EAAG-replies-token"
CUSTOMER = "5511999995678"


@pytest.fixture
def ob(aws: Provisioned, graph: MetaSimulator) -> Onboarding:
    graph.business(b.WABA, b.PNID, token=TOKEN)
    onboarding = Onboarding(aws)
    onboarding.connect(accessToken=TOKEN, syncHistory=False, mode="cloud_api")
    return onboarding


def ticket_of(ob: Onboarding) -> dict[str, Any]:
    _, tickets = ob.api("GET", f"/tickets?connectionId={ob.connection['id']}")
    [ticket] = tickets["tickets"]
    return dict(ticket)


def post_reply(ob: Onboarding, ticket_id: str, body: dict[str, Any], key: str | None) -> tuple[int, Any]:
    return ob.api("POST", f"/tickets/{ticket_id}/messages", body, {"idempotency-key": key} if key else None)


def test_a_reply_goes_to_meta_once_and_its_statuses_come_back(ob: Onboarding, graph: MetaSimulator) -> None:
    ob.deliver(b.live("wamid.RIN1", CUSTOMER, 1_800_000_000))  # the customer writes: a ticket, Meta's window
    graph.messaging.customer_wrote(b.PNID, CUSTOMER)
    ticket = ticket_of(ob)
    # When the agent answers (and the same request comes twice)
    status, accepted = post_reply(ob, ticket["id"], {"text": "Oi! Temos sim.", "replyToId": "wamid.RIN1"}, "k-1")
    again = post_reply(ob, ticket["id"], {"text": "Oi! Temos sim.", "replyToId": "wamid.RIN1"}, "k-1")
    assert status == 202 and again[0] == 202
    message = accepted["message"]
    assert (message["status"], message["source"], message["id"]) == ("pending", "agent", None)
    assert again[1]["message"]["clientMessageId"] == message["clientMessageId"]
    ob.pump()
    # Then Meta got it once, with our id to echo, and the timeline has its wamid
    [sent] = graph.messaging.sent
    assert sent.body["biz_opaque_callback_data"] == message["clientMessageId"] and sent.to == CUSTOMER
    _, detail = ob.api("GET", f"/tickets/{ticket['id']}")
    [reply] = [m for m in detail["ticket"]["messages"] if m["source"] == "agent"]
    assert (reply["id"], reply["status"]) == (sent.wamid, "accepted")
    # Meta's statuses, as it posts them (read first)
    for value in ("read", "delivered"):
        ob.deliver(
            b.for_number(
                b.status(sent.wamid, value, 1_800_000_100, callback=message["clientMessageId"]), b.PNID, b.WABA
            )
        )
    _, detail = ob.api("GET", f"/tickets/{ticket['id']}")
    [reply] = [m for m in detail["ticket"]["messages"] if m["source"] == "agent"]
    assert reply["status"] == "read" and reply["error"] is None
    # the older status was ours too: nothing was written at the wamid's key (no stub of statuses)
    inbox = boto3.client("dynamodb").get_item(
        TableName=ob.aws.tables["InboxTable"],
        Key={"pk": {"S": f"MSG#{ob.connection['id']}#{sent.wamid}"}, "sk": {"S": "MSG"}},
    )
    assert "Item" not in inbox
    # the outbox is a FIFO queue, drained
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=ob.aws.queues["RepliesQueue"], AttributeNames=["All"])
    assert attributes["Attributes"]["FifoQueue"] == "true"
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_the_contracts_refusals(ob: Onboarding) -> None:
    ob.deliver(b.live("wamid.RIN2", CUSTOMER, 1_800_000_000))
    ticket = ticket_of(ob)
    assert post_reply(ob, ticket["id"], {"text": "oi"}, None)[0] == 400  # no Idempotency-Key
    assert post_reply(ob, ticket["id"], {"text": "oi", "template": {"name": "x"}}, "k")[0] == 400
    assert post_reply(ob, ticket["id"], {}, "k")[0] == 400
    status, body = post_reply(ob, ticket["id"], {"text": "oi", "replyToId": "wamid.ELSEWHERE"}, "k")
    assert (status, body["error"]["code"]) == (422, "unknown_reply_target")
    assert post_reply(ob, ticket["id"], {"text": "oi"}, "k2")[0] == 202
    status, body = post_reply(ob, ticket["id"], {"text": "outra"}, "k2")
    assert (status, body["error"]["code"]) == (409, "idempotency_key_reused")
    assert ob.api("PATCH", f"/tickets/{ticket['id']}", {"status": "closed"})[0] == 200
    status, body = post_reply(ob, ticket["id"], {"text": "oi"}, "k3")
    assert (status, body["error"]["code"]) == (409, "ticket_closed")
    stranger = Onboarding(ob.aws)
    stranger.connect_organization()
    stranger_status, _ = post_reply(stranger, ticket["id"], {"text": "oi"}, "k4")
    assert stranger_status == 404


def test_a_reply_whose_job_was_lost_is_sent_after_the_watchdogs_sweep(
    ob: Onboarding, graph: MetaSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = int(utcnow().timestamp())
    ob.deliver(b.live("wamid.RIN3", CUSTOMER, now))
    graph.messaging.customer_wrote(b.PNID, CUSTOMER)
    ticket = ticket_of(ob)
    assert post_reply(ob, ticket["id"], {"text": "Oi"}, "lost-job")[0] == 202
    boto3.client("sqs").purge_queue(QueueUrl=ob.aws.queues["RepliesQueue"])  # its job is lost
    watchdog = watchdog_wiring.watchdog()
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(watchdog, "_clock", lambda: later)
    assert watchdog.run().replies_requeued == 1
    ob.pump()
    assert len(graph.messaging.sent) == 1


def test_a_throttled_send_waits_seconds_not_the_queues_whole_visibility(ob: Onboarding, graph: MetaSimulator) -> None:
    now = int(utcnow().timestamp())
    ob.deliver(b.live("wamid.RIN4", CUSTOMER, now))
    graph.messaging.customer_wrote(b.PNID, CUSTOMER)
    assert post_reply(ob, ticket_of(ob)["id"], {"text": "Oi"}, "throttled")[0] == 202
    sqs = boto3.client("sqs")
    url, arn = ob.aws.queues["RepliesQueue"], ob.aws.queue_arns["RepliesQueue"]
    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]  # invisible for 360 s now
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {"ApproximateReceiveCount": message["Attributes"]["ApproximateReceiveCount"]},
        "eventSourceARN": arn,
    }
    graph.fail_next("messages", meta_error("(#80007) Rate limit issues", 80007))  # an app limit, HTTP 400
    with pytest.raises(AllRecordsFailedError):
        reply_send_app.lambda_handler({"Records": [record]}, LambdaContext("r", 512, 30))
    # Then the job is back within seconds (2 s after a first attempt), and then it goes
    again: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not again and time.monotonic() < deadline:
        again = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    assert again and again[0]["MessageId"] == message["MessageId"]
    assert graph.messaging.sent == []
