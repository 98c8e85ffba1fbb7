"""Issue 10 on the moto tier: nothing acknowledged is ever lost. Each test reproduces a defect
through the real handlers (ingest, the queues' consumers, the dead-letter consumers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devstack.provision import Provisioned
from tests.builders import payloads as b
from tests.integration.harness import Onboarding

CUSTOMER = "5491166660001"
T0 = 1751400000
# SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
SQS_ALLOWED = {0x9, 0xA, 0xD}


@pytest.fixture
def ob(aws: Provisioned) -> Iterator[Onboarding]:
    onboarding = Onboarding(aws)
    onboarding.connect()
    yield onboarding


def sqs_safe(text: str) -> bool:
    return all(
        ord(c) in SQS_ALLOWED or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) >= 0x10000
        for c in text
    )


def webhook_outcomes(ob: Onboarding) -> list[tuple[str, str | None]]:
    return sorted((str(e["status"]), e.get("error")) for e in ob.log_entries() if e.get("kind", "webhook") == "webhook")


def test_odd_unicode_and_deep_values_travel_through_real_queues_and_are_processed(ob: Onboarding) -> None:
    # Given one body (Meta's ASCII-escaped JSON) with an emoji cut in half, a value nested 220
    # levels (past the consumer's JSON parser limit of 200), noncharacters, and an innocent neighbour
    body = b.one_body(
        b.live("wamid.half", CUSTOMER, T0, body="oi \ud83d"),
        b.live_raw("wamid.deep", CUSTOMER, T0 + 1, "interactive", b.nested(220)),
        b.live("wamid.fffe", CUSTOMER, T0 + 2, body="a\ufffeb\uffff"),
        b.live("wamid.fine", CUSTOMER, T0 + 3, body="tudo bem"),
    )
    # When it is posted: acknowledged, and every queued body is one SQS takes
    assert ob.post(body) == 200
    sqs = boto3.client("sqs")
    queued = sqs.receive_message(
        QueueUrl=ob.aws.queues["LiveMessagesQueue"], MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    assert len(queued) == 4 and all(m["Body"].isascii() and sqs_safe(m["Body"]) for m in queued)
    ob.pump()
    # Then every change is processed (none retried to a dead letter), text stored as valid Unicode
    assert [status for status, _ in webhook_outcomes(ob)] == ["processed"] * 4
    stored = ob.messages()
    assert set(stored) == {"wamid.half", "wamid.deep", "wamid.fffe", "wamid.fine"}
    assert stored["wamid.half"]["body"] == "oi \ufffd" and stored["wamid.fine"]["body"] == "tudo bem"


def test_a_millisecond_timestamp_is_rejected_with_its_reason_not_dead_lettered(ob: Onboarding) -> None:
    ob.deliver(b.one_body(b.live("wamid.ms", CUSTOMER, T0 * 1000), b.live("wamid.ok", CUSTOMER, T0)))
    outcomes = webhook_outcomes(ob)
    assert [status for status, _ in outcomes] == ["processed", "rejected"]
    assert "is not unix seconds between 2009 and 2100" in str(outcomes[1][1])
    assert set(ob.messages()) == {"wamid.ok"}
    dead = boto3.client("sqs").get_queue_attributes(
        QueueUrl=ob.aws.queues["LiveMessagesDeadLetterQueue"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert dead["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_message_id_with_half_an_emoji_is_stored_as_valid_unicode(ob: Onboarding) -> None:
    ob.deliver(b.one_body(b.live("wamid.\ud83d", CUSTOMER, T0), b.live("wamid.ok", CUSTOMER, T0 + 1)))
    assert set(ob.messages()) == {"wamid.\ufffd", "wamid.ok"}
    assert [status for status, _ in webhook_outcomes(ob)] == ["processed"] * 2


def test_a_status_that_overtakes_its_message_is_kept_and_applied_when_the_message_arrives(ob: Onboarding) -> None:
    # Given statuses of two business messages, processed before the messages (another queue)
    ob.deliver(
        b.status("wamid.ahead.echo", "delivered", T0 + 5),
        b.status("wamid.ahead.hist", "read", T0 + 5),
        b.status("wamid.ahead.hist", "delivered", T0 + 4),
    )
    # Then nothing is listed or counted yet
    assert ob.leads() == [] and ob.tickets() == []
    assert ob.state()["historySync"]["messagesImported"] == 0
    # When the App echo and the history chunk (where it is only DELIVERED) arrive, each twice
    echo = b.echo("wamid.ahead.echo", CUSTOMER, T0)
    chunk = b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text("wamid.ahead.hist", b.BIZ, T0 + 1, status="DELIVERED")))
    ob.deliver(echo, chunk, echo, chunk)
    # Then each message is stored once with the higher status, counted once, listed in its conversation
    [lead] = ob.leads()
    status, body = ob.api("GET", f"/leads/{lead['id']}")
    assert status == 200
    [conversation] = body["conversations"]
    status, page = ob.api("GET", f"/conversations/{conversation['id']}/messages")
    assert status == 200
    assert [(m["id"], m["status"]) for m in page["messages"]] == [
        ("wamid.ahead.echo", "delivered"),
        ("wamid.ahead.hist", "read"),
    ]
    assert conversation["messageCount"] == 2 and ob.state()["historySync"]["messagesImported"] == 1
    assert {status for status, _ in webhook_outcomes(ob)} == {"processed"}


# ---------------------------------------------------------------- defect 3: every dead-letter queue is consumed


@pytest.mark.parametrize(
    ("document", "queue"),
    [
        (b.chunk(0, 1, 50, b.thread(CUSTOMER, b.text("wamid.h1", CUSTOMER, T0))), "HistoryQueue"),
        (b.contacts(("add", CUSTOMER, "Ana")), "ContactsQueue"),
        (b.echo("wamid.e1", CUSTOMER, T0), "EchoesQueue"),
        (b.live("wamid.l1", CUSTOMER, T0), "LiveMessagesQueue"),
        (b.account_update("PARTNER_REMOVED", T0), "AccountUpdatesQueue"),
    ],
)
def test_a_dead_letter_of_every_queue_ends_failed_and_stays_retryable(
    ob: Onboarding, document: dict[str, Any], queue: str
) -> None:
    # Given a change routed to its queue, that kept failing and was moved to the dead-letter queue
    assert ob.post(document) == 200
    sqs = boto3.client("sqs")
    source = ob.aws.queues[queue]
    dead_letters = ob.aws.queues[queue.replace("Queue", "DeadLetterQueue")]
    [record] = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)["Messages"]
    sqs.send_message(QueueUrl=dead_letters, MessageBody=record["Body"])
    sqs.delete_message(QueueUrl=source, ReceiptHandle=record["ReceiptHandle"])
    # When the queues are pumped (the dead-letter queue has a consumer)
    ob.pump()
    # Then the entry is failed with a reason, listed for a retry, and the dead-letter queue is empty
    [(status, error)] = webhook_outcomes(ob)
    assert status == "failed" and error
    left = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"])
    assert left["Attributes"]["ApproximateNumberOfMessages"] == "0"
    [entry] = [e for e in ob.log_entries() if e.get("status") == "failed"]
    assert str(entry["gsi2pk"]).startswith(f"FAILED#{ob.connection['id']}#")
