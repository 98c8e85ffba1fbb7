"""A history chunk costs per chunk, not per thread (issue 11): counted at botocore, through the consumer.

moto's transactions run through :mod:`devstack.moto_patches` (installed for the whole integration tier:
same requests and outcomes, without moto's copy of the table).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import pytest
from botocore.client import BaseClient
from moto.dynamodb.responses import DynamoHandler

from devstack.provision import Provisioned
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack import wiring
from whatrack.adapters.metrics import PowertoolsMetrics
from whatrack.domain.changes import ChangeMessage, WebhookField
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import LeadSource
from whatrack.wiring import consumers

T0 = 1751400000


@contextmanager
def dynamodb_requests() -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            counts[operation] += 1
        return original(self, operation, params)

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def history_change(connection: dict[str, Any], threads: int, messages: int) -> ChangeMessage:
    value = b.chunk(
        1,
        1,
        40,
        *[
            b.thread(
                f"55119{t:04d}0000", *[b.text(f"wamid.{t}.{m}", f"55119{t:04d}0000", T0 + m) for m in range(messages)]
            )
            for t in range(threads)
        ],
    )["entry"][0]["changes"][0]["value"]
    return ChangeMessage(
        field=WebhookField.HISTORY,
        log_id="bulk",
        connection_id=connection["id"],
        organization_id=connection["organizationId"],
        archive_key="webhooks/sha256/00/none",
        entry_index=0,
        change_index=0,
        received_at=datetime.now(UTC),
        value=value,
    )


def test_a_chunk_of_short_threads_costs_per_chunk_and_its_redelivery_a_handful(aws: Provisioned) -> None:
    # Given a connection, and a chunk of 60 threads of 3 messages (a history of short threads)
    ob = Onboarding(aws)
    connection = ob.connect()
    consumer = consumers.consumer()
    change = history_change(connection, 60, 3)
    # When it is imported, then delivered again
    with dynamodb_requests() as first:
        consumer.consume(change)
    with dynamodb_requests() as again:
        consumer.consume(change)
    # Then the import cost a few requests per chunk (it cost 5 per thread: > 300), the redelivery a handful
    assert sum(first.values()) <= 30, first
    assert sum(again.values()) <= 5, again
    state = ob.state()["historySync"]
    assert (state["messagesImported"], state["threadsImported"]) == (180, 60)
    assert len(ob.leads()) == 60


def test_parallel_requests_within_a_chunk_give_the_same_import(
    aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an emulation that applies each request atomically (as DynamoDB; moto does not lock),
    # a consumer sending a chunk's independent requests on 4 threads, and 3 customers known already
    lock = threading.RLock()
    original = DynamoHandler.call_action

    @wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(*args, **kwargs)

    monkeypatch.setattr(DynamoHandler, "call_action", locked)
    monkeypatch.setenv("HISTORY_IMPORT_WORKERS", "4")
    wiring.reset()
    ob = Onboarding(aws)
    connection = ob.connect()
    ports = consumers.inbox_ports(PowertoolsMetrics(), consumers.settings().media_queue_url)
    for t in range(3):
        identity = ContactIdentity.of(wa_id=f"55119{t:04d}0000")
        ports.leads.resolve(connection["organizationId"], identity, LeadSource.STATE_SYNC, datetime.now(UTC))
    # When a chunk of 120 threads (two pages of guards, two lead transactions) is imported twice at once
    consumer = consumers.consumer()
    change = history_change(connection, 120, 2)

    def deliver() -> None:
        for _ in range(3):  # as SQS would: a delivery that met the other one's writes is retried
            try:
                consumer.consume(change)
                return
            except Exception:  # noqa: S112 - retried; the assertions below judge the outcome
                continue

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every thread was imported once, each customer one history lead
    state = ob.state()["historySync"]
    assert (state["messagesImported"], state["threadsImported"]) == (240, 120)
    leads = ob.leads()
    assert len(leads) == 120 and all(lead["has_history"] for lead in leads)
