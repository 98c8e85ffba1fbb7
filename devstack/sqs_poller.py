"""SQS event-source emulation: long-poll, invoke with a real SQS event, delete what succeeded.

Failed records (``batchItemFailures``, or the whole batch when the handler raises) are left in
the queue; they reappear after the visibility timeout, and the queue's redrive policy moves
them to the DLQ after ``maxReceiveCount`` receives, exactly as with Lambda's event source.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from devstack.runtime import LocalFunction

log = logging.getLogger("devstack.sqs")


class QueuePoller(threading.Thread):
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        function: LocalFunction,
        batch_size: int,
        stop: threading.Event,
        region: str = "us-east-1",
    ) -> None:
        super().__init__(name=f"poller-{function.logical_id}-{queue_arn.rsplit(':', 1)[-1]}", daemon=True)
        self._sqs = sqs
        self._url = queue_url
        self._arn = queue_arn
        self._function = function
        self._batch_size = max(1, min(batch_size, 10))
        self._halt = stop
        self._region = region
        self.batches = 0

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                log.exception("poller %s failed; retrying", self.name)
                self._halt.wait(1.0)

    def poll_once(self, wait_seconds: int = 0) -> int:
        response = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages") or []
        if not messages:
            return 0
        self._deliver(messages)
        return len(messages)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            k: v
            for k, v in (message.get("Attributes") or {}).items()
            if k in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
        }
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": self._region,
        }

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(m) for m in messages]}
        started = time.perf_counter()
        failed_ids: set[str]
        try:
            result = self._function.invoke(event)
            failures = (result or {}).get("batchItemFailures") or [] if isinstance(result, dict) else []
            failed_ids = {str(f.get("itemIdentifier")) for f in failures}
        except Exception:
            log.exception("%s raised; the whole batch stays in the queue", self._function.logical_id)
            failed_ids = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        self.batches += 1
        log.info(
            "%s <- %s: %d record(s), %d ok, %d failed (%.1f ms)",
            self._function.logical_id,
            self._arn.rsplit(":", 1)[-1],
            len(messages),
            len(done),
            len(failed_ids),
            (time.perf_counter() - started) * 1000,
        )


def build_pollers(
    template: dict[str, Any], provisioned: Any, functions: dict[str, LocalFunction], sqs: Any, stop: threading.Event
) -> list[QueuePoller]:
    """One poller per SQS event source of the template (queue → function, with its batch size)."""
    from devstack.template import resources_of_type

    pollers = []
    for logical, res in resources_of_type(template, "AWS::Serverless::Function").items():
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            props = event["Properties"]
            arn = provisioned.resolver.resolve(props["Queue"])
            pollers.append(
                QueuePoller(
                    sqs,
                    provisioned.queue_url_for_arn(arn),
                    arn,
                    functions[logical],
                    int(props.get("BatchSize", 10)),
                    stop,
                )
            )
    return pollers
