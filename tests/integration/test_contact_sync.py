"""Issue 10, defect 10: a contact sync of 5,000 contacts through the real ``state_sync`` handler.

DynamoDB requests are counted at botocore (as ``benchmarks/chunk_import.py`` does). moto's
transactions run through ``devstack.moto_patches`` (same requests and outcomes, without moto's
per-item copy of the table), or 5,000 contacts would take the emulator tens of minutes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.chunk_import import counting
from benchmarks.contacts_sync import contacts_message, sqs_event
from devstack import moto_patches
from devstack.provision import Provisioned
from devstack.runtime import LambdaContext
from functions.state_sync import app as state_app
from functions.status_api import app as status_app
from tests.builders.events import http_event
from tests.integration.harness import Onboarding
from whatrack.entrypoints.batches import AllRecordsFailedError

MANY = 5_000
MAX_REQUESTS_PER_1000 = 80  # was ≈ 4,000 (about 4 sequential requests per contact)


@pytest.fixture
def ob(aws: Provisioned) -> Iterator[Onboarding]:
    with moto_patches.patched():  # the tier's default already; this test depends on it
        onboarding = Onboarding(aws)
        onboarding.connect()
        yield onboarding


class ShortContext(LambdaContext):
    """A 60 s invocation whose time runs out after ``batches`` batches (what the processor sees)."""

    def __init__(self, batches: int) -> None:
        super().__init__("StateSyncFunction", 512, 60)
        self.answers = [60_000] * batches

    def get_remaining_time_in_millis(self) -> int:
        return self.answers.pop(0) if self.answers else 5_000


def invoke(event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
    context = context or LambdaContext("StateSyncFunction", 512, 3600)  # the whole sync, however slow moto is
    result: dict[str, Any] = state_app.lambda_handler(event, context)
    return result


def dynamodb(counts: Counter[str]) -> int:
    return sum(n for operation, n in counts.items() if operation.startswith("dynamodb:"))


def leads_of(ob: Onboarding) -> list[tuple[Any, ...]]:
    return sorted((i["phone_number"], i.get("push_name"), i["is_active"]) for i in ob.leads())


def test_5000_contacts_sync_in_a_few_requests_per_thousand_and_once(ob: Onboarding) -> None:
    # Given the App's initial dump of 5,000 contacts, queued for the state_sync function
    event = sqs_event(contacts_message(ob.connection, MANY))
    # When the function consumes it (a 60 s Lambda), then gets it again (a redelivery)
    with counting() as first:
        assert invoke(event) == {"batchItemFailures": []}
    with counting() as again:
        assert invoke(event) == {"batchItemFailures": []}
    # Then a few requests per 1,000 contacts, and the redelivery costs almost nothing
    assert dynamodb(first) * 1000 / MANY <= MAX_REQUESTS_PER_1000, first
    assert dynamodb(again) <= 5, again
    # and every contact is one active lead, counted once, listed under the connection
    leads = ob.leads()
    assert len(leads) == MANY and all(i["is_active"] and i["source"] == "state_sync" for i in leads)
    assert ob.state()["historySync"]["contactsImported"] == MANY
    query = f"connectionId={ob.connection['id']}&limit=500"
    raw = status_app.lambda_handler(
        http_event("GET", "/leads", headers={"authorization": f"Bearer {ob.api_key}"}, query=query),
        LambdaContext("s", 512, 20),
    )
    page = json.loads(raw["body"])
    assert raw["statusCode"] == 200 and len(page["leads"]) == 500 and page["nextCursor"]


def test_an_interrupted_sync_is_retried_and_resumes_where_it_stopped(ob: Onboarding) -> None:
    # Given 1,000 contacts and an invocation whose time runs out after 4 batches
    count = 1_000
    event = sqs_event(contacts_message(ob.connection, count))
    with counting() as interrupted, pytest.raises(AllRecordsFailedError, match="paused at 396/1000"):
        invoke(event, ShortContext(batches=4))  # its only record failed: the whole batch goes back to SQS
    # Then it stopped between batches, before the time ran out
    assert len(ob.leads()) == 4 * 99
    # When SQS delivers it again to an invocation with time
    with counting() as resumed:
        assert invoke(event) == {"batchItemFailures": []}
    # Then it went on from its checkpoint (no batch written twice) and ends as an uninterrupted sync
    writes = interrupted["dynamodb:TransactWriteItems"] + resumed["dynamodb:TransactWriteItems"]
    assert writes == 10 * 3 + 1  # 10 batches of 99 (3 transactions each) and one of 10, as uninterrupted
    assert len(ob.leads()) == count and ob.state()["historySync"]["contactsImported"] == count
    assert all(active for _, _, active in leads_of(ob))
