"""Every request to the emulated AWS is atomic (devstack/atomic.py), as AWS applies it: threads racing
through one moto server (the local stack's kind) never see a request interleaved with another.

Without the locks (moto as it is: ``devstack.moto_patches.unpatched()``), measured on a 2-core machine:
the DynamoDB race fails every run (e.g. "47 updates accepted, but n moved 42 times"); the SQS race fails most runs (a
message received twice; the 500-message backlog makes each receive and delete walk long enough for
it); the S3 race was never seen (moto's check-then-write window is narrow), so that test guards the
write-once behaviour the archive relies on rather than proving the race.
"""

from __future__ import annotations

import threading
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from devstack import atomic
from tests.waiting import wait_until

REGION = "us-east-1"
THREADS = 12
ATTRIBUTES = 30  # every update writes them all: a torn item shows two writers' values


@pytest.fixture
def endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 in this process, as the local stack runs it (with the tier's patches)."""
    assert atomic.installed(), "the integration tier runs with devstack.moto_patches installed"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30):
            pass
        server.stop()


def client(endpoint: str, service: str) -> Any:
    config = Config(retries={"max_attempts": 1}, max_pool_connections=THREADS * 2)
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    )


def together(work: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    barrier = threading.Barrier(threads)

    def run(index: int) -> Any:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))


@dataclass
class Race:
    accepted: int
    final: dict[str, Any]

    @property
    def writers(self) -> set[str]:
        return {self.final[f"a{i}"]["S"] for i in range(ATTRIBUTES)}


def race_optimistic_updates(endpoint: str, rounds: int = 25) -> Race:
    """Each thread reads ``n`` and writes every attribute and ``n + 1`` if ``n`` is still what it read:
    DynamoDB accepts exactly one update per value of ``n``."""
    dynamodb = client(endpoint, "dynamodb")
    dynamodb.create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    key = {"pk": {"S": "item"}}
    dynamodb.put_item(TableName="race", Item={**key, "n": {"N": "0"}})
    expression = "SET " + ", ".join(f"a{i} = :w" for i in range(ATTRIBUTES)) + ", n = :new"

    def work(index: int) -> int:
        mine = client(endpoint, "dynamodb")
        accepted = 0
        for attempt in range(rounds):
            seen = mine.get_item(TableName="race", Key=key, ConsistentRead=True)["Item"]["n"]["N"]
            try:
                mine.update_item(
                    TableName="race",
                    Key=key,
                    UpdateExpression=expression,
                    ConditionExpression="n = :old",
                    ExpressionAttributeValues={
                        ":w": {"S": f"writer-{index}-{attempt}"},
                        ":old": {"N": seen},
                        ":new": {"N": str(int(seen) + 1)},
                    },
                )
                accepted += 1
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException", error
        return accepted

    accepted = sum(together(work))
    return Race(accepted, dynamodb.get_item(TableName="race", Key=key, ConsistentRead=True)["Item"])


def test_conditional_updates_racing_on_one_item_are_each_accepted_or_refused_whole(endpoint: str) -> None:
    race = race_optimistic_updates(endpoint)
    # every accepted update moved n by one: none was accepted on a value another had already replaced
    final = int(race.final["n"]["N"])
    assert final == race.accepted > 0, f"{race.accepted} updates accepted, but n moved {final} times"
    # and the item is one writer's, not pieces of several
    assert len(race.writers) == 1, f"an item torn between {len(race.writers)} writers"


def test_sends_and_deletes_racing_on_one_queue_lose_nothing_and_no_message_is_taken_twice(endpoint: str) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName="race", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    per_sender, senders, backlog = 60, THREADS // 2, 500
    for start in range(0, backlog, 10):  # a backlog: each delete and receive walks it, as a busy queue's do
        entries = [{"Id": str(n), "MessageBody": f"backlog-{n}"} for n in range(start, start + 10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    received: Counter[str] = Counter()
    lock = threading.Lock()
    done_sending = threading.Event()

    def work(index: int) -> None:
        mine = client(endpoint, "sqs")
        if index < senders:  # half send, one message at a time
            for n in range(per_sender):
                mine.send_message(QueueUrl=url, MessageBody=f"{index}-{n}")
            return
        while True:  # the other half receive and delete, as the consumers and `make redrive` do
            messages = mine.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            for message in messages:
                mine.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                with lock:
                    received[message["Body"]] += 1
            if not messages and done_sending.is_set():
                return

    finished: list[int] = []

    def run(index: int) -> None:
        try:
            work(index)
        finally:
            if index < senders:
                with lock:
                    finished.append(index)
                    if len(finished) == senders:  # receivers stop once every sender is done and nothing is left
                        done_sending.set()

    together(run)
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in left] == []
    twice = {body: n for body, n in received.items() if n > 1}
    assert twice == {}, f"{len(twice)} messages received more than once"
    sent = per_sender * senders + backlog
    assert len(received) == sent, f"{sent - len(received)} of {sent} messages lost"


def test_a_long_poll_never_blocks_a_sender(endpoint: str) -> None:
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName="waiting")["QueueUrl"]
    consumer_client = client(endpoint, "sqs")
    result: dict[str, Any] = {}

    def consumer() -> None:
        result["messages"] = consumer_client.receive_message(QueueUrl=url, WaitTimeSeconds=20)

    thread = threading.Thread(target=consumer)
    thread.start()
    # the poll is inside the server, waiting on the SQS condition (with the lock let go)
    wait_until(lambda: len(atomic.SQS._waiters) > 0, "the long poll to be waiting")
    sqs.send_message(QueueUrl=url, MessageBody="hello")  # had the poll kept the lock, this would wait 20 s
    thread.join(60)
    # and the send woke it: had it waited its 20 s out first, its answer would be empty
    assert [m["Body"] for m in result["messages"].get("Messages", [])] == ["hello"]


def test_concurrent_write_once_puts_of_one_key_let_exactly_one_win(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="archive")

    def put(index: int) -> str:
        try:
            client(endpoint, "s3").put_object(
                Bucket="archive", Key="k", Body=b"x" * 200_000, Metadata={"writer": str(index)}, IfNoneMatch="*"
            )
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "written"

    outcomes = Counter(together(put))
    assert outcomes == {"written": 1, "PreconditionFailed": THREADS - 1}, outcomes
