"""``make replay`` on the moto tier: re-delivering a connection's archived changes twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from devstack.provision import Provisioned
from scripts import replay
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack.domain.errors import NotFoundError

CUSTOMER, OTHER = "5491166660001", "5491166660002"
T0 = 1751400000


def table_items(aws: Provisioned, logical: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(aws.tables[logical])
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(found, key=lambda i: (str(i["pk"]), str(i["sk"])))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# When a history payload was last processed (the stall watchdog's liveness clock), not data: a
# replay does process the payload again.
LIVENESS = ("hs_last_payload_at", "received_at")


def state(aws: Provisioned) -> dict[str, Any]:
    """Everything the changes produced: inbox, connection (counters, sync state, chunks), log outcomes."""
    return {
        "inbox": table_items(aws, "InboxTable"),
        "accounts": [{k: v for k, v in i.items() if k not in LIVENESS} for i in table_items(aws, "AccountsTable")],
        "log": sorted(
            (str(i["id"]), str(i["status"]), i.get("error"))
            for i in table_items(aws, "LogTable")
            if i.get("kind") == "webhook"
        ),
    }


def test_replaying_everything_twice_changes_nothing(aws: Provisioned) -> None:
    # Given a whole onboarding applied: contacts, two history chunks, a media follow-up, live
    # messages (one opening a ticket), an App echo and a status
    ob = Onboarding(aws)
    connection = ob.connect()
    ob.deliver(
        b.contacts(("add", CUSTOMER, "Maria"), ("add", OTHER, "João")),
        b.chunk(
            0, 1, 50, b.thread(CUSTOMER, b.text("wamid.H1", CUSTOMER, T0), b.placeholder("wamid.M1", CUSTOMER, T0 + 1))
        ),
        b.chunk(0, 2, 100, b.thread(OTHER, b.text("wamid.H2", OTHER, T0 + 2))),
        b.media_followup("wamid.M1", CUSTOMER, T0 + 1),
        b.live("wamid.L1", CUSTOMER, T0 + 10),
        b.echo("wamid.E1", CUSTOMER, T0 + 11),
        b.status("wamid.E1", "delivered", T0 + 12),
        b.live("wamid.L2", OTHER, T0 + 13),
    )
    before = state(aws)
    assert {status for _, status, _ in before["log"]} == {"processed"} and len(before["log"]) == 8
    # When every change of the connection is replayed from the archive, twice, and consumed each time
    reports = []
    for _ in range(2):
        reports.append(replay.run(connection["id"], replay.BEGINNING, datetime.now(UTC) + timedelta(minutes=1)))
        ob.pump()
    # Then each replay re-delivered all eight, and nothing changed but the number's activity (the open
    # screens read once more what they show: D-49)
    assert [(r.entries, r.sent) for r in reports] == [(8, 8), (8, 8)]
    after = state(aws)
    moved = [
        int(y["activity"]) - int(x["activity"])
        for x, y in zip(before["accounts"], after["accounts"], strict=False)
        if isinstance(x, dict) and isinstance(y, dict) and "activity" in x
    ]
    assert moved == [16]  # eight changes, applied twice
    for rows in (before["accounts"], after["accounts"]):
        for row in rows:
            if isinstance(row, dict):
                row.pop("activity", None)
    for part in ("inbox", "accounts", "log"):
        changed = [
            (x["pk"], {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)})
            if isinstance(x, dict) and isinstance(y, dict)
            else (x, y)
            for x, y in zip(before[part], after[part], strict=False)
            if x != y
        ]
        assert (len(before[part]), changed) == (len(after[part]), []), part


def test_a_range_before_any_change_replays_nothing_and_an_unknown_connection_is_refused(aws: Provisioned) -> None:
    ob = Onboarding(aws)
    connection = ob.connect()
    ob.deliver(b.live("wamid.L1", CUSTOMER, T0))
    past = datetime(2020, 1, 1, tzinfo=UTC)
    assert replay.run(connection["id"], past, past + timedelta(days=1)).sent == 0
    with pytest.raises(NotFoundError):
        replay.run("no-such-connection", past, datetime.now(UTC))


def test_times_are_read_as_utc_iso() -> None:
    assert replay.moment("2026-11-26T12:00:00Z", replay.BEGINNING) == datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert replay.moment("2026-11-26T12:00:00", replay.BEGINNING) == datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert replay.moment(None, replay.BEGINNING) == replay.BEGINNING
    with pytest.raises(SystemExit):
        replay.moment("yesterday", replay.BEGINNING)


def test_failed_changes_of_every_field_are_re_sent_and_only_those(aws: Provisioned) -> None:
    # Given a processed live message, and a history chunk and a live message whose queue messages were
    # lost on the way and which ended failed (as a dead letter leaves them)
    from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
    from whatrack.domain.changes import WebhookField

    ob = Onboarding(aws)
    connection = ob.connect()
    ob.deliver(b.live("wamid.OK", CUSTOMER, T0))
    assert ob.post(b.chunk(0, 1, 100, b.thread(OTHER, b.text("wamid.LOST.H", OTHER, T0 + 1)))) == 200
    assert ob.post(b.live("wamid.LOST.L", OTHER, T0 + 2)) == 200
    sqs = boto3.client("sqs")
    for logical in ("HistoryQueue", "LiveMessagesQueue"):
        sqs.purge_queue(QueueUrl=aws.queues[logical])
    log = DynamoWebhookLog()
    lost = [e for e in ob.log_entries() if e.get("kind") == "webhook" and e["status"] == "routed"]
    assert len(lost) == 2
    for entry in lost:
        field = WebhookField(str(entry["field"]))
        now = datetime.now(UTC)
        assert log.mark_failed(str(entry["id"]), now, "dead-lettered", connection_id=connection["id"], field=field)
    # When the failed ones are re-sent (make replay FAILED=1) and consumed
    sent = replay.retry_failed(connection["id"])
    ob.pump()
    # Then exactly those two were sent, and everything is processed and in the inbox
    assert sent == 2
    assert {str(e["status"]) for e in ob.log_entries() if e.get("kind") == "webhook"} == {"processed"}
    assert {"wamid.OK", "wamid.LOST.H", "wamid.LOST.L"} <= set(ob.messages())
    # And a second run finds nothing left to re-send
    assert replay.retry_failed(connection["id"]) == 0
