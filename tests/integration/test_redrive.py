"""``make redrive`` on the moto tier: every dead-letter queue's messages go back to their source queue."""

from __future__ import annotations

import boto3
import pytest

from devstack.provision import Provisioned
from scripts import redrive
from tests.builders import payloads as b
from tests.integration.harness import Onboarding

CUSTOMER = "5491166660001"
T0 = 1751400000


def target(aws: Provisioned) -> redrive.Target:
    return redrive.Target("moto", environment=dict(aws.environment), queues=dict(aws.queues), region="us-east-1")


def drain(url: str) -> list[dict[str, object]]:
    sqs = boto3.client("sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages"
    ):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            found.append(message)
    return found


def test_redrive_moves_every_dead_letter_back_with_its_attributes_and_reports_counts(aws: Provisioned) -> None:
    # Given 12 dead letters of the live messages (more than one receive) and 2 of the replay jobs
    sqs = boto3.client("sqs")
    attributes = {"field": {"DataType": "String", "StringValue": "messages"}}
    for i in range(12):
        sqs.send_message(
            QueueUrl=aws.queues["LiveMessagesDeadLetterQueue"], MessageBody=f"live {i}", MessageAttributes=attributes
        )
    for i in range(2):
        sqs.send_message(QueueUrl=aws.queues["ReplayDeadLetterQueue"], MessageBody=f"job {i}")
    # and a reply's send (FIFO: it goes back into its conversation's group)
    sqs.send_message(
        QueueUrl=aws.queues["RepliesDeadLetterQueue"], MessageBody="reply", MessageGroupId="conv-1",
        MessageDeduplicationId="d-1",
    )  # fmt: skip
    # When every dead-letter queue is redriven
    report = redrive.run(target(aws))
    # Then each went back to its source queue, attributes kept, and the counts say so
    assert report["LiveMessagesDeadLetterQueue"] == {"to": "LiveMessagesQueue", "moved": 12, "left": 0}
    assert report["ReplayDeadLetterQueue"] == {"to": "ReplayQueue", "moved": 2, "left": 0}
    assert {dead: counts["moved"] for dead, counts in report.items()} == {
        "AccountUpdatesDeadLetterQueue": 0,
        "ContactsDeadLetterQueue": 0,
        "EchoesDeadLetterQueue": 0,
        "HistoryDeadLetterQueue": 0,
        "LiveMessagesDeadLetterQueue": 12,
        "MediaDeadLetterQueue": 0,
        "ReplayDeadLetterQueue": 2,
        "RepliesDeadLetterQueue": 1,
    }
    live = drain(aws.queues["LiveMessagesQueue"])
    assert sorted(str(m["Body"]) for m in live) == sorted(f"live {i}" for i in range(12))
    assert all(m["MessageAttributes"]["field"]["StringValue"] == "messages" for m in live)  # type: ignore[index]
    assert [m["Body"] for m in drain(aws.queues["ReplayQueue"])] in (["job 0", "job 1"], ["job 1", "job 0"])
    assert drain(aws.queues["LiveMessagesDeadLetterQueue"]) == []
    [redriven] = sqs.receive_message(QueueUrl=aws.queues["RepliesQueue"], AttributeNames=["MessageGroupId"])["Messages"]
    assert (redriven["Body"], redriven["Attributes"]["MessageGroupId"]) == ("reply", "conv-1")


def test_one_queue_is_redriven_by_name_and_an_unknown_name_is_refused(aws: Provisioned) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=aws.queues["EchoesDeadLetterQueue"], MessageBody="echo")
    sqs.send_message(QueueUrl=aws.queues["ContactsDeadLetterQueue"], MessageBody="contact")
    assert redrive.run(target(aws), "EchoesDeadLetterQueue") == {
        "EchoesDeadLetterQueue": {"to": "EchoesQueue", "moved": 1, "left": 0}
    }
    assert [m["Body"] for m in drain(aws.queues["ContactsDeadLetterQueue"])] == ["contact"]
    with pytest.raises(SystemExit, match="not a dead-letter queue"):
        redrive.run(target(aws), "NoSuchQueue")


def test_a_dead_lettered_change_redriven_is_applied(aws: Provisioned) -> None:
    # Given a live message whose queue message ended in the dead-letter queue
    ob = Onboarding(aws)
    ob.connect()
    assert ob.post(b.live("wamid.DEAD", CUSTOMER, T0)) == 200
    sqs = boto3.client("sqs")
    for message in drain(aws.queues["LiveMessagesQueue"]):
        sqs.send_message(
            QueueUrl=aws.queues["LiveMessagesDeadLetterQueue"],
            MessageBody=str(message["Body"]),
            MessageAttributes=message.get("MessageAttributes") or {},  # type: ignore[arg-type]
        )
    # When it is redriven and the queues drained
    redrive.run(target(aws))
    ob.pump()
    # Then it was applied
    assert list(ob.messages()) == ["wamid.DEAD"]
