"""DynamoDB requests (and time) one history chunk costs, counted on the emulation.

A chunk of 20 threads x 25 messages (500 messages) is imported once, then redelivered.
Requests are counted per operation at the botocore level, so they are what AWS would bill.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.client import BaseClient
from moto import mock_aws

from devstack import moto_patches
from devstack.provision import provision
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack import bootstrap
from whatrack.domain.changes import ChangeMessage, WebhookField

THREADS, MESSAGES = 20, 25


@contextmanager
def counting() -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        counts[f"{self.meta.service_model.service_name}:{operation}"] += 1
        return original(self, operation, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def main() -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        os.environ.setdefault(name, value)
    threads = [
        b.thread(
            f"55119{t:04d}0000",
            *[b.text(f"wamid.b{t}.{m}", f"55119{t:04d}0000", 1751400000 + m) for m in range(MESSAGES)],
        )
        for t in range(THREADS)
    ]
    value = b.chunk(1, 1, 50, *threads)["entry"][0]["changes"][0]["value"]
    with mock_aws(), moto_patches.patched():
        stack = provision(None, environ={})
        os.environ.update(stack.environment)
        bootstrap.reset()
        ob = Onboarding(stack)
        connection = ob.connect()
        consumer = bootstrap.change_consumer()
        message = ChangeMessage(
            field=WebhookField.HISTORY,
            log_id="bench",
            connection_id=connection["id"],
            organization_id=connection["organizationId"],
            archive_key="-",
            entry_index=0,
            change_index=0,
            received_at=datetime.now(UTC),
            value=value,
        )
        for label in ("first delivery", "redelivery"):
            with counting() as counts:
                started = time.perf_counter()
                consumer.consume(message)
                elapsed = time.perf_counter() - started
            total = sum(counts.values())
            print(
                f"{label}: {THREADS * MESSAGES} messages in {THREADS} threads: {total} DynamoDB requests "
                f"({total / (THREADS * MESSAGES):.3f} per message); {elapsed:.1f} s on moto (transactions "
                "through devstack.moto_patches); only the request counts carry over to AWS"
            )
            for operation, count in sorted(counts.items()):
                print(f"    {operation:40s} {count}")
        assert ob.state()["historySync"]["messagesImported"] == THREADS * MESSAGES


if __name__ == "__main__":
    main()
