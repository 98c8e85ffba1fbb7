"""The reconciler on the moto tier: its scheduled handler re-drives changes stuck with no outcome,
from the archive, through the queues, page by page, never reading the whole log table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import botocore.client
import pytest

from devstack.provision import Provisioned
from devstack.runtime import LambdaContext
from functions.reconciler import app as reconciler_app
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack.adapters.queues import SqsReplayJobs
from whatrack.domain.clock import utcnow
from whatrack.domain.errors import TransientError
from whatrack.wiring import reconciler as reconciler_wiring

CUSTOMER = "5491166660001"
T0 = 1751400000


@pytest.fixture
def ob(aws: Provisioned) -> Onboarding:
    onboarding = Onboarding(aws)
    onboarding.connect_organization()
    return onboarding


def sweep(hours_later: float = 4) -> dict[str, int]:
    """The scheduled handler, run as if ``hours_later`` had passed (the default bound is 3 h)."""
    reconciler = reconciler_wiring.reconciler()
    later = utcnow() + timedelta(hours=hours_later)
    reconciler._clock = lambda: later  # type: ignore[method-assign]
    result: dict[str, int] = reconciler_app.lambda_handler({"source": "aws.events"}, LambdaContext("r", 512, 300))
    return result


def lose(aws: Provisioned, logical: str) -> int:
    """What a queue holds is lost (a message that never arrived, or expired in a DLQ)."""
    sqs = boto3.client("sqs")
    count = 0
    while messages := sqs.receive_message(QueueUrl=aws.queues[logical], MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=aws.queues[logical], ReceiptHandle=message["ReceiptHandle"])
            count += 1
    return count


def webhook(ob: Onboarding) -> list[dict[str, Any]]:
    return [e for e in ob.log_entries() if e.get("kind") == "webhook"]


def audit_events(ob: Onboarding) -> list[tuple[str, str | None]]:
    return [(str(e["event"]), e.get("status")) for e in ob.log_entries() if e.get("kind") == "audit"]


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Every AWS request made, by ``service.Operation``."""
    counted: Counter[str] = Counter()
    call = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        counted[f"{self.meta.service_model.service_name}.{operation}"] += 1
        return call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    yield counted


def test_a_routed_change_whose_message_was_lost_is_redriven_from_the_archive(ob: Onboarding, aws: Provisioned) -> None:
    # Given a live message routed to its queue, and the queue message lost
    ob.connect()
    assert ob.post(b.live("wamid.LOST", CUSTOMER, T0)) == 200
    assert lose(aws, "LiveMessagesQueue") == 1
    assert [e["status"] for e in webhook(ob)] == ["routed"]
    # When the reconciler sweeps before the bound, then after it
    early = sweep(hours_later=1)
    found = sweep()
    ob.pump()
    # Then only the second found it; it was sent again (by reference) and applied
    assert (early["stuck"], found["stuck"], found["redriven"]) == (0, 1, 1)
    assert list(ob.messages()) == ["wamid.LOST"]
    assert [(e["status"], int(e["redrives"])) for e in webhook(ob)] == [("processed", 1)]
    assert "gsi3pk" not in webhook(ob)[0]  # an outcome leaves the sparse index
    assert ("changes_redriven", "1 stuck change(s) sent again, 0 marked failed") in audit_events(ob)
    # And a later sweep finds nothing
    assert sweep(hours_later=8)["stuck"] == 0


def test_a_kept_change_whose_replay_could_not_be_queued_is_routed_by_the_sweep(
    ob: Onboarding, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a change kept for a number, and a replay job that cannot be queued when it is connected
    assert ob.post(b.contacts(("add", CUSTOMER, "Maria"))) == 200

    def refuse(self: SqsReplayJobs, job: Any) -> None:
        raise TransientError("replay job send failed (ServiceUnavailable)")

    monkeypatch.setattr(SqsReplayJobs, "enqueue", refuse)
    connection = ob.connect()
    ob.pump()
    # Then the connection exists, the failure is on its log, and the change is still kept
    assert [e["status"] for e in webhook(ob)] == ["unmatched"]
    assert [event for event, _ in audit_events(ob)] == ["unmatched_replay_deferred"]
    # When the reconciler sweeps
    found = sweep()
    ob.pump()
    # Then it routed the change to the connection, where it was applied
    assert (found["stuck"], found["unmatchedRouted"]) == (1, 1)
    assert [(e["status"], e["connection_id"]) for e in webhook(ob)] == [("processed", connection["id"])]
    assert [lead["push_name"] for lead in ob.leads()] == ["Maria"]
    assert not [e for e in ob.log_entries() if e.get("kind") == "kept"]


def test_a_change_kept_for_a_number_never_connected_waits_and_is_looked_at_again_later(ob: Onboarding) -> None:
    # Given a change kept for a number with no connection
    assert ob.post(b.live("wamid.WAIT", CUSTOMER, T0)) == 200
    # When the reconciler sweeps, again at once, and again once its next check is due
    first, again, later = sweep(4), sweep(4), sweep(11)
    # Then it is looked at once per bound, sends nothing, and stays kept
    assert (first["unmatchedWaiting"], again["stuck"], later["unmatchedWaiting"]) == (1, 0, 1)
    assert [e["status"] for e in webhook(ob)] == ["unmatched"]


def test_a_change_that_is_never_processed_ends_failed_and_retryable(
    ob: Onboarding, aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a history change whose every queue message is lost, and at most 2 re-drives
    monkeypatch.setenv("RECONCILE_MAX_REDRIVES", "2")
    connection = ob.connect()
    assert ob.post(b.chunk(0, 1, 50, b.thread(CUSTOMER, b.text("wamid.H", CUSTOMER, T0)))) == 200
    results = []
    for hours in (4, 8, 12):
        lose(aws, "HistoryQueue")
        results.append(sweep(hours))
    # Then it was re-driven twice, then marked failed with the reason, listed for the retry
    assert [(r["redriven"], r["givenUp"]) for r in results] == [(1, 0), (1, 0), (0, 1)]
    [entry] = webhook(ob)
    assert entry["status"] == "failed" and "not processed after 2 re-drives" in entry["error"]
    assert entry["gsi2pk"] == f"FAILED#{connection['id']}#history"
    status, body = ob.api("POST", f"/connections/{connection['id']}/history-sync/retry")
    ob.pump()
    assert (status, body) == (202, {"retried": 1}) and list(ob.messages()) == ["wamid.H"]


def test_one_sweep_page_costs_requests_per_page_not_per_table(
    ob: Onboarding, aws: Provisioned, requests: Counter[str]
) -> None:
    # Given 20 processed changes and 5 stuck ones (their messages lost)
    ob.connect()
    ob.deliver(*[b.live(f"wamid.OK{i:02d}", CUSTOMER, T0 + i) for i in range(20)])
    for i in range(5):
        assert ob.post(b.live(f"wamid.STUCK{i}", CUSTOMER, T0 + 100 + i)) == 200
    lose(aws, "LiveMessagesQueue")
    # When one sweep runs
    requests.clear()
    found = sweep()
    # Then it read the sparse index (one query per shard), claimed each stuck entry, wrote one audit
    # entry, sent one batch; nothing scanned, nothing read per processed entry
    assert found == {**found, "pages": 1, "stuck": 5, "redriven": 5}
    dynamodb = {k: v for k, v in requests.items() if k.startswith("dynamodb.")}
    assert dynamodb == {"dynamodb.Query": 4, "dynamodb.UpdateItem": 5, "dynamodb.PutItem": 1}
    assert requests["sqs.SendMessageBatch"] == 1


def test_the_reconciler_is_scheduled_and_granted_only_what_it_calls(aws: Provisioned) -> None:
    function = aws.template["Resources"]["ReconcilerFunction"]["Properties"]
    [schedule] = [e["Properties"]["Schedule"] for e in function["Events"].values() if e["Type"] == "Schedule"]
    assert schedule.startswith("rate(")
    actions = {
        action
        for statement in function["Policies"][0]["Statement"]
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }
    assert actions == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",
    }
