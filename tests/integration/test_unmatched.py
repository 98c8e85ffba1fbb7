"""Issue 10, defect 2 on the moto tier: a change kept ``unmatched`` (its number had no connection yet)
is applied once the connection exists, whatever the order of ingest and connection creation, however
stale an index read, and even when sending it fails once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devstack.provision import Provisioned
from tests.builders import payloads as b
from tests.integration.harness import PNID, Onboarding
from whatrack.adapters.dynamo.directory import DynamoConnectionDirectory
from whatrack.adapters.queues import SqsChangePublisher
from whatrack.domain.errors import TransientError

CUSTOMER = "5491166660001"
T0 = 1751400000


@pytest.fixture
def ob(aws: Provisioned) -> Onboarding:
    onboarding = Onboarding(aws)
    onboarding.connect_organization()
    return onboarding


def one_body(*documents: dict[str, Any]) -> dict[str, Any]:
    first = documents[0]
    changes = [change for document in documents for change in document["entry"][0]["changes"]]
    return {**first, "entry": [{**first["entry"][0], "changes": changes}]}


def redelivered_at_once(aws: Provisioned) -> None:
    """A failed record comes back at the next poll (SQS would bring it back after its visibility timeout)."""
    sqs = boto3.client("sqs")
    for url in aws.queues.values():
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})


def webhook_statuses(ob: Onboarding) -> list[str]:
    return sorted(str(e["status"]) for e in ob.log_entries() if e.get("kind") == "webhook")


def queued(aws: Provisioned, logical: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=aws.queues[logical], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def stale_indexes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """While switched on, eventually consistent reads of the webhook path return what was there
    before (nothing): index queries of the log table and plain reads of the phone-number guard.
    Strongly consistent reads see the truth."""
    from pynamodb.connection.base import Connection

    stale: list[str] = []
    query, get_item = Connection.query, Connection.get_item

    def stale_query(self: Any, table_name: str, hash_key: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("index_name") and "LogTable" in table_name and stale:
            return {"Items": [], "Count": 0, "ScannedCount": 0}
        return query(self, table_name, hash_key, *args, **kwargs)

    def stale_get(self: Any, table_name: str, hash_key: str, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("consistent_read") and hash_key.startswith("PNID#") and stale:
            return {}
        return get_item(self, table_name, hash_key, *args, **kwargs)

    monkeypatch.setattr(Connection, "query", stale_query)
    monkeypatch.setattr(Connection, "get_item", stale_get)
    yield stale


def test_a_change_ingested_while_its_connection_is_created_is_applied(
    ob: Onboarding, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ingest reads the phone guard (nothing yet), then the connection is created (and looks for
    # kept changes) before ingest writes its "unmatched" entry
    lookup = DynamoConnectionDirectory.targets_for_phone_number_id

    def connect_in_between(self: DynamoConnectionDirectory, phone_number_id: str, *args: Any, **kwargs: Any) -> Any:
        found = lookup(self, phone_number_id, *args, **kwargs)
        if not ob.connection:
            ob.connect()
        return found

    monkeypatch.setattr(DynamoConnectionDirectory, "targets_for_phone_number_id", connect_in_between)
    # When a live message for the number is posted, and the queues drained
    assert ob.post(b.live("wamid.RACE", CUSTOMER, T0)) == 200
    ob.pump()
    # Then it is applied to the new connection: stored, processed, nothing left unmatched
    assert list(ob.messages()) == ["wamid.RACE"]
    assert "unmatched" not in webhook_statuses(ob) and "processed" in webhook_statuses(ob)


def test_a_kept_change_is_applied_even_when_the_index_read_is_stale(ob: Onboarding, stale_indexes: list[str]) -> None:
    # Given a change kept for a number with no connection
    assert ob.post(b.live("wamid.STALE", CUSTOMER, T0)) == 200
    assert webhook_statuses(ob) == ["unmatched"]
    # When its connection is created while every index still shows the past, and the queues drained
    stale_indexes.append("on")
    ob.connect()
    stale_indexes.clear()
    ob.pump()
    # Then it is applied
    assert list(ob.messages()) == ["wamid.STALE"]
    assert webhook_statuses(ob) == ["processed"]


def test_a_replay_that_fails_once_is_retried_not_swallowed(
    ob: Onboarding, aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a kept change, and a queue that refuses the first send after the number is connected
    assert ob.post(b.contacts(("add", CUSTOMER, "Maria"))) == 200
    redelivered_at_once(aws)
    publish = SqsChangePublisher.publish
    failures: list[int] = []

    def flaky(self: SqsChangePublisher, messages: Any) -> None:
        if messages and not failures:
            failures.append(len(messages))
            raise TransientError("queue send failed (ServiceUnavailable)")
        publish(self, messages)

    monkeypatch.setattr(SqsChangePublisher, "publish", flaky)
    # When the number is connected and the queues drained
    ob.connect()
    ob.pump()
    # Then the send failed once, was tried again, and the change was applied
    assert failures == [1]
    assert webhook_statuses(ob) == ["processed"]
    assert [lead["push_name"] for lead in ob.leads()] == ["Maria"]


def test_a_large_backlog_is_replayed_after_the_connection_is_answered_and_in_pages(
    ob: Onboarding, aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 30 changes kept for a number, and replay jobs of one page of 8 each (4 jobs)
    monkeypatch.setenv("REPLAY_PAGE_SIZE", "8")
    monkeypatch.setenv("REPLAY_PAGES_PER_JOB", "1")
    for body in range(3):
        changes = [b.live(f"wamid.B{body:02d}{i:03d}", CUSTOMER, T0 + i) for i in range(10)]
        first = changes[0]
        document = {
            **first,
            "entry": [{**first["entry"][0], "changes": [c["entry"][0]["changes"][0] for c in changes]}],
        }
        assert ob.post(document) == 200
    # When the number is connected
    ob.connect()
    # Then the answer came before any change was sent (nothing on the live queue yet) ...
    assert queued(aws, "LiveMessagesQueue") == 0
    # ... and once the queues are drained, every change is applied, none left unmatched
    ob.pump(rounds=100)
    assert len(ob.messages()) == 30
    assert set(webhook_statuses(ob)) == {"processed"}


def test_nothing_is_kept_for_a_number_already_connected(ob: Onboarding) -> None:
    ob.connect(PNID)
    ob.deliver(b.live("wamid.OK", CUSTOMER, T0))
    assert webhook_statuses(ob) == ["processed"]
