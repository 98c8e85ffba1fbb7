"""Realistic history chunks through the real ``history_chunk`` handler, under moto, metered at botocore.

Each chunk goes the way it goes in AWS: its signed body through the ``webhook_ingest`` handler
(archived to S3, its change queued, by reference when large), then the SQS record received from the
history queue is handed to the ``history_chunk`` handler (a Lambda context, ``invoking`` set as the
local stack does). Only the requests ``history_chunk`` makes are metered.

moto runs transactions through ``devstack.moto_patches`` (the same
requests and outcomes, without moto's deep copy of the whole table per transaction item, which AWS
does not have): otherwise the emulator's own cost, growing with the table, would be what is timed.

Three imports of the same items are compared under the same injected delay per DynamoDB request:

* the handler (``history_chunk``), however it batches;
* the **floor**: the items the handler left in the table, written again into an empty table of the
  same schema with sequential 25-item ``BatchWriteItem`` calls;
* the **seed loop**: the per-message loop of the product requirements (``history``: for each thread
  upsert the lead, upsert the conversation, then upsert every message, one request each, in order).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

from benchmarks import bench_environment as common_environment
from benchmarks.generator import chunk_messages
from benchmarks.meter import Meter, metered
from devstack import moto_patches
from devstack.provision import Provisioned, provision
from devstack.runtime import LambdaContext, LocalFunction, invoking
from tests.integration.harness import Onboarding

FUNCTION = "HistoryChunkFunction"


def settle() -> None:
    """Collect garbage, then freeze what survives, before a timed section.

    Here the emulator keeps every stored item as Python objects in the measured process (in AWS the
    database is elsewhere), and each full collection the timed code triggers would walk them all:
    the time would grow with what the table holds, whoever is timed. Objects made by the timed code
    itself are collected as usual. Applied alike before the handler, the floor and the seed loop.
    """
    gc.collect()
    gc.freeze()


def bench_environment() -> None:
    """The benchmarks' environment, with the handlers quiet even when the caller's is not."""
    common_environment()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"


@dataclass
class Delivery:
    messages: int
    requests: int
    write_units: float
    transactional_write_units: float
    seconds: float
    operations: dict[str, int]


class ChunkImporter:
    """One emulated stack (inside ``mock_aws``) with one connection, importing chunks."""

    def __init__(self) -> None:
        from whatrack import wiring

        self.stack: Provisioned = provision(None, environ={})
        os.environ.update(self.stack.environment)
        wiring.reset()
        self.onboarding = Onboarding(self.stack)
        self.connection = self.onboarding.connect()
        self.function: LocalFunction = self.onboarding.functions[FUNCTION]
        self.poller = next(p for p in self.onboarding.pollers if p._function is self.function)
        self.sqs = boto3.client("sqs")
        self.queue_url = self.stack.queues["HistoryQueue"]

    def ingest(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        """Post ``document`` through ``webhook_ingest``; the SQS records queued for ``history_chunk``."""
        assert self.onboarding.post(document) == 200
        records: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not got:
                return records
            for message in got:
                records.append(self.poller._record(dict(message)))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def ingest_drain(self) -> None:
        """Drop what ingest queued (the ingest benchmark does not import it)."""
        while got := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in got:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def deliver(self, records: list[dict[str, Any]], *, delay_s: float = 0.0) -> Meter:
        """Hand ``records`` to ``history_chunk`` (one at a time, as with a batch size of 1)."""
        handler = self.function.handler()
        with metered(delay_s, frozenset({FUNCTION})) as meter:
            for record in records:
                token = invoking.set(FUNCTION)
                try:
                    # a generous timeout: this measures the whole chunk, not where a Lambda would pause
                    result = handler({"Records": [record]}, LambdaContext(FUNCTION, self.function.memory, 3600))
                except Exception as exc:  # the batch utility raises when every record failed
                    raise RuntimeError(f"history_chunk failed a record: {exc!r}") from exc
                finally:
                    invoking.reset(token)
                if result and result.get("batchItemFailures"):
                    raise RuntimeError(f"history_chunk failed a record: {result}")
        return meter

    def import_chunk(self, document: dict[str, Any], *, delay_s: float = 0.0) -> tuple[Delivery, list[Any]]:
        records = self.ingest(document)
        settle()
        started = time.perf_counter()
        meter = self.deliver(records, delay_s=delay_s)
        elapsed = time.perf_counter() - started
        return delivery(chunk_messages(document), meter, elapsed), records

    def imported(self) -> int:
        return int(self.onboarding.state()["historySync"]["messagesImported"])

    def inbox_items(self) -> list[dict[str, Any]]:
        """Every item of the inbox table, in wire form (a scan of the emulation, not metered)."""
        client = boto3.client("dynamodb")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.stack.tables["InboxTable"]}
        while True:
            page = client.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delivery(messages: int, meter: Meter, seconds: float) -> Delivery:
    return Delivery(
        messages, meter.total, meter.write_units, meter.transactional_write_units, seconds, dict(meter.requests)
    )


@contextmanager
def emulated() -> Iterator[None]:
    from moto import mock_aws

    bench_environment()
    with mock_aws(), moto_patches.patched():
        yield


def empty_copy_of(table: str, name: str) -> str:
    """A new empty table with ``table``'s key schema (and no indexes: the floor writes base items)."""
    client = boto3.client("dynamodb")
    described = client.describe_table(TableName=table)["Table"]
    keys = {k["AttributeName"] for k in described["KeySchema"]}
    client.create_table(
        TableName=name,
        KeySchema=described["KeySchema"],
        AttributeDefinitions=[a for a in described["AttributeDefinitions"] if a["AttributeName"] in keys],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def batch_floor(items: list[dict[str, Any]], table: str, delay_s: float) -> tuple[float, Meter]:
    """Seconds to write ``items`` with sequential 25-item ``BatchWriteItem`` calls (unprocessed retried)."""
    client = boto3.client("dynamodb")
    settle()
    with metered(delay_s) as meter:
        started = time.perf_counter()
        for start in range(0, len(items), 25):
            pending: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return time.perf_counter() - started, meter


def seed_loop(documents: list[dict[str, Any]], table: str, delay_s: float) -> tuple[float, Meter]:
    """The product requirements' ``history`` loop, literally: lead upsert, conversation upsert, then one
    upsert per message, each awaited before the next."""
    client = boto3.client("dynamodb")
    now = str(int(time.time()))
    settle()
    with metered(delay_s) as meter:
        started = time.perf_counter()
        for document in documents:
            for history in document["entry"][0]["changes"][0]["value"]["history"]:
                for thread in history["threads"]:
                    wa_id = thread.get("context", {}).get("wa_id") or thread.get("id") or "unknown"
                    lead = client.update_item(
                        TableName=table,
                        Key={"pk": {"S": f"SEEDLEAD#{wa_id}"}, "sk": {"S": "LEAD"}},
                        UpdateExpression="SET wa_id = :w, lastSyncedAt = :n, #s = if_not_exists(#s, :src)",
                        ExpressionAttributeNames={"#s": "source"},
                        ExpressionAttributeValues={":w": {"S": wa_id}, ":n": {"N": now}, ":src": {"S": "history_sync"}},
                        ReturnValues="ALL_NEW",
                    )["Attributes"]
                    conversation = client.update_item(
                        TableName=table,
                        Key={"pk": {"S": f"SEEDCONV#{wa_id}"}, "sk": {"S": "instance"}},
                        UpdateExpression="SET leadId = :l, updatedAt = :n",
                        ExpressionAttributeValues={":l": lead["pk"], ":n": {"N": now}},
                        ReturnValues="ALL_NEW",
                    )["Attributes"]
                    for message in thread["messages"]:
                        context = message.get("history_context", {})
                        body = (message.get("text") or {}).get("body")
                        client.update_item(
                            TableName=table,
                            Key={"pk": {"S": f"SEEDMSG#{message['id']}"}, "sk": {"S": "MSG"}},
                            UpdateExpression=(
                                "SET leadId = if_not_exists(leadId, :l), conversationId = if_not_exists("
                                "conversationId, :c), #src = if_not_exists(#src, :h), direction = if_not_exists("
                                "direction, :d), #t = if_not_exists(#t, :t), body = if_not_exists(body, :b), "
                                "#ts = if_not_exists(#ts, :ts), #st = if_not_exists(#st, :st)"
                            ),
                            ExpressionAttributeNames={
                                "#src": "source",
                                "#t": "type",
                                "#ts": "timestamp",
                                "#st": "status",
                            },
                            ExpressionAttributeValues={
                                ":l": lead["pk"],
                                ":c": conversation["pk"],
                                ":h": {"S": "history"},
                                ":d": {"S": "OUTBOUND" if context.get("from_me") else "INBOUND"},
                                ":t": {"S": str(message.get("type"))},
                                ":b": {"S": body} if body else {"NULL": True},
                                ":ts": {"N": str(message["timestamp"])},
                                ":st": {"S": str(context.get("status", ""))},
                            },
                        )
        return time.perf_counter() - started, meter
