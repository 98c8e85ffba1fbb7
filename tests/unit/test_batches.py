"""SQS partial batch responses: the records that failed are answered (SQS retries only those), and a
batch where every record failed fails the invocation (counted by Lambda, alarmed)."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools import Logger

from whatrack.entrypoints.batches import AllRecordsFailedError, QueueRecord, partial_batch


def event(*bodies: str) -> dict[str, object]:
    return {
        "Records": [{"messageId": f"m{i}", "body": body, "eventSourceARN": "arn:q"} for i, body in enumerate(bodies)]
    }


def test_only_the_records_that_failed_are_answered_and_counted() -> None:
    handled: list[QueueRecord[dict[str, int]]] = []
    counted: list[int] = []

    def handle(record: QueueRecord[dict[str, int]]) -> None:
        if record.body["n"] == 2:
            raise KeyError("a bug")
        handled.append(record)

    answer = partial_batch(
        event('{"n": 1}', '{"n": 2}', "not json"), json.loads, handle, logger=Logger(service="t"), failed=counted.append
    )
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert [(r.message_id, r.event_source_arn, r.body) for r in handled] == [("m0", "arn:q", {"n": 1})]
    assert counted == [2]


def test_a_batch_where_every_record_failed_fails_the_invocation() -> None:
    counted: list[int] = []

    def handle(record: QueueRecord[object]) -> None:
        raise RuntimeError("storage down")

    with pytest.raises(AllRecordsFailedError, match="all 2 records failed: RuntimeError: storage down"):
        partial_batch(event("{}", "{}"), json.loads, handle, logger=Logger(service="t"), failed=counted.append)
    assert counted == [2]
    assert partial_batch({"Records": []}, json.loads, handle, logger=Logger(service="t"), failed=counted.append) == {
        "batchItemFailures": []
    }
