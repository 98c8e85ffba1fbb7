"""DynamoDB requests and write units one history chunk costs, counted on the emulation.

Shapes: 20 threads x 50 messages, 20 x 25, 200 x 5 (a history of short threads) and a
realistic mix (many threads of 1-5 messages, a few of hundreds); each chunk is imported once,
then delivered again. Requests are counted per operation at the botocore level, so they are what
AWS would bill. Write units: 1 per KB of the written item for a single write, 2 for an item of a
transaction (refused attempts included); the item size is the size it has at the end of the run.
moto's transactions run without their per-item copy of the table (``devstack.moto_patches``): the
requests are the same, only the emulation is faster (wall time on moto is not reported as a result).
``python -m benchmarks.chunk_import [shape ...]`` (default: every shape).
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto import mock_aws

from benchmarks import bench_environment
from devstack import moto_patches
from devstack.provision import provision
from devstack.runtime import ApiCall, around_api_calls
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack import wiring
from whatrack.domain.changes import ChangeMessage, WebhookField
from whatrack.wiring import consumers

Sizes = list[int]


def realistic_sizes(seed: int = 11) -> Sizes:
    """~1,000 messages: most customers wrote 1-5 times, a few threads run to hundreds."""
    rng = random.Random(seed)  # noqa: S311 - a benchmark's fixed shape
    return [rng.randint(1, 5) for _ in range(150)] + [30, 60, 120, 280]


SHAPES: dict[str, Sizes] = {
    "20x50": [50] * 20,
    "20x25": [25] * 20,
    "200x5": [5] * 200,
    "realistic": realistic_sizes(),
}


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    writes: list[tuple[str, tuple[str, str], int]] = field(default_factory=list)
    """(table, key, units per KB) of every item written."""


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def _written(operation: str, params: dict[str, Any]) -> list[tuple[str, tuple[str, str], int]]:
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        item = params.get("Item") or params["Key"]
        return [(params["TableName"], _key(item), 1)]
    if operation == "TransactWriteItems":
        out = []
        for entry in params["TransactItems"]:
            for kind in ("Put", "Update", "Delete"):
                if kind in entry:
                    body = entry[kind]
                    out.append((body["TableName"], _key(body.get("Item") or body["Key"]), 2))
        return out
    if operation == "BatchWriteItem":
        return [
            (table, _key(r.get("PutRequest", {}).get("Item") or r["DeleteRequest"]["Key"]), 1)
            for table, requests in params["RequestItems"].items()
            for r in requests
        ]
    return []


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Requests per ``service:operation`` while the block runs (the contact-sync tests use it too)."""
    with tallying() as tally:
        yield tally.requests


@contextmanager
def tallying() -> Iterator[Tally]:
    """Requests and the items written, at botocore."""
    tally = Tally()

    def counted(call: ApiCall, client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        tally.requests[f"{service}:{operation}"] += 1
        if service == "dynamodb":
            tally.writes += _written(operation, params)
        return call(client, operation, params)

    with around_api_calls(counted):
        yield tally


def _size(value: Any) -> int:
    """DynamoDB's item size rules, roughly: names and values by their UTF-8 length, numbers ~ digits."""
    (kind, inner), *_ = value.items()
    if kind in ("S", "N"):
        return len(str(inner).encode())
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(_size(v) + 1 for v in inner)
    return sum(len(str(v)) for v in inner)


def write_units(tally: Tally) -> float:
    import boto3

    client = boto3.client("dynamodb")
    sizes: dict[tuple[str, tuple[str, str]], int] = {}
    for table in {t for t, _, _ in tally.writes}:
        for page in client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                sizes[(table, _key(item))] = sum(len(k.encode()) + _size(v) for k, v in item.items())
    return float(sum(factor * max(1, math.ceil(sizes.get((t, k), 1) / 1024)) for t, k, factor in tally.writes))


def chunk_value(label: str, sizes: Sizes) -> dict[str, Any]:
    threads = []
    for t, count in enumerate(sizes):
        customer = f"55119{t:04d}0000"
        threads.append(
            b.thread(
                customer,
                *[
                    b.text(f"wamid.{label}.{t}.{m}", customer, 1751400000 + m, body=f"message {m}")
                    for m in range(count)
                ],
            )
        )
    return b.chunk(1, len(SHAPES), 50, *threads)["entry"][0]["changes"][0]["value"]


def run(label: str, sizes: Sizes) -> dict[str, Any]:
    value = chunk_value(label, sizes)
    messages = sum(sizes)
    result: dict[str, Any] = {"shape": label, "threads": len(sizes), "messages": messages}
    with mock_aws(), moto_patches.patched():
        stack = provision(None, environ={})
        os.environ.update(stack.environment)
        wiring.reset()
        ob = Onboarding(stack)
        connection = ob.connect()
        consumer = consumers.consumer()
        message = ChangeMessage(
            field=WebhookField.HISTORY,
            log_id=f"bench-{label}",
            connection_id=connection["id"],
            organization_id=connection["organizationId"],
            archive_key="-",
            entry_index=0,
            change_index=0,
            received_at=datetime.now(UTC),
            value=value,
        )
        for delivery in ("first", "redelivery"):
            with tallying() as tally:
                started = time.perf_counter()
                consumer.consume(message)
                elapsed = time.perf_counter() - started
            dynamodb = {op.split(":", 1)[1]: n for op, n in tally.requests.items() if op.startswith("dynamodb:")}
            total = sum(dynamodb.values())
            units = write_units(tally)
            result[delivery] = {
                "requests": total,
                "requests_per_1000_messages": round(1000 * total / messages, 1),
                "write_units": units,
                "write_units_per_message": round(units / messages, 2),
                "seconds_on_moto": round(elapsed, 1),
                "by_operation": dict(sorted(dynamodb.items())),
            }
        state = ob.state()["historySync"]
        assert state["messagesImported"] == messages, state
        assert state["threadsImported"] == len(sizes), state
    return result


def main(argv: list[str]) -> None:
    bench_environment()
    print("| chunk | delivery | requests | per 1,000 msgs | write units / msg | operations |")
    print("|---|---|---|---|---|---|")
    for label in argv or list(SHAPES):
        result = run(label, SHAPES[label])
        for delivery in ("first", "redelivery"):
            r = result[delivery]
            ops = ", ".join(f"{op} {n}" for op, n in r["by_operation"].items())
            print(
                f"| {label} ({result['threads']} threads, {result['messages']} msgs) | {delivery} | {r['requests']} "
                f"| {r['requests_per_1000_messages']} | {r['write_units_per_message']} | {ops} |",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
