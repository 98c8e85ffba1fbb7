"""SQS: the publisher of routed changes, the replay jobs, the media jobs and the replies' outbox."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from whatrack.adapters.aws import AWS_ERRORS, client, transient
from whatrack.domain.changes import QUEUE_FOR_FIELD, ChangeMessage, QueueName, ReplayJob
from whatrack.domain.errors import TransientError

if TYPE_CHECKING:
    from whatrack.domain.media import MediaJob
    from whatrack.domain.replies import ReplyJob

MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 240_000


class SqsChangePublisher:
    def __init__(self, queue_urls: Mapping[QueueName, str], sqs: Any | None = None) -> None:
        self._queue_urls = dict(queue_urls)
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        return self._sqs or client("sqs")

    def publish(self, messages: Sequence[ChangeMessage]) -> None:
        by_queue: dict[QueueName, list[ChangeMessage]] = defaultdict(list)
        for message in messages:
            by_queue[QUEUE_FOR_FIELD[message.field]].append(message)
        for queue, items in by_queue.items():
            self._send(self._queue_urls[queue], items)

    def _send(self, url: str, items: list[ChangeMessage]) -> None:
        batch: list[dict[str, Any]] = []
        size = 0
        for index, message in enumerate(items):
            body = message.encode()
            entry = {
                "Id": str(index),
                "MessageBody": body,
                "MessageAttributes": {
                    "field": {"DataType": "String", "StringValue": message.field.value},
                    "connectionId": {"DataType": "String", "StringValue": message.connection_id},
                },
            }
            if batch and (len(batch) == MAX_BATCH_ENTRIES or size + len(body) > MAX_BATCH_BYTES):
                self._flush(url, batch)
                batch, size = [], 0
            batch.append(entry)
            size += len(body)
        if batch:
            self._flush(url, batch)

    def _flush(self, url: str, batch: list[dict[str, Any]]) -> None:
        try:
            response = self.sqs.send_message_batch(QueueUrl=url, Entries=batch)
        except AWS_ERRORS as exc:
            raise transient("queue send", exc) from exc
        failed = response.get("Failed") or []
        if failed:
            codes = ", ".join(sorted({str(f.get("Code")) for f in failed}))
            raise TransientError(f"queue send failed for {len(failed)} message(s) ({codes})")


class SqsReplayJobs:
    """The queue of replay jobs (changes kept for a number, replayed once it is connected)."""

    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def enqueue(self, job: ReplayJob) -> None:
        try:
            (self._sqs or client("sqs")).send_message(QueueUrl=self._queue_url, MessageBody=job.encode())
        except AWS_ERRORS as exc:
            raise transient("replay job send", exc) from exc


class SqsMediaJobs:
    """The queue of media downloads (one job per file; a job delivered twice downloads once)."""

    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def enqueue(self, jobs: Sequence[MediaJob]) -> None:
        sqs = self._sqs or client("sqs")
        for start in range(0, len(jobs), MAX_BATCH_ENTRIES):
            entries = [
                {"Id": str(index), "MessageBody": job.encode()}
                for index, job in enumerate(jobs[start : start + MAX_BATCH_ENTRIES])
            ]
            try:
                response = sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except AWS_ERRORS as exc:
                raise transient("media job send", exc) from exc
            if response.get("Failed"):
                raise TransientError(f"media job send failed for {len(response['Failed'])} job(s)")


class SqsReplyOutbox:
    """The outbox of replies: a FIFO queue, one message group per conversation, so a conversation's
    replies leave in the order they were accepted (and a retried one holds the next back); a job
    queued twice within five minutes is one (its deduplication id is the reply's)."""

    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def enqueue(self, job: ReplyJob) -> None:
        sqs = self._sqs or client("sqs")
        try:
            sqs.send_message(
                QueueUrl=self._queue_url,
                MessageBody=job.encode(),
                MessageGroupId=job.conversation_id,
                MessageDeduplicationId=job.client_message_id.replace(".", "-"),
            )
        except AWS_ERRORS as exc:
            raise transient("reply send job", exc) from exc


class SqsRetryDelay:
    """Shortens the wait of a message that failed (``ChangeMessageVisibility``), best effort: if SQS
    refuses, the queue's own visibility applies. The queue's URL is looked up once per queue."""

    def __init__(self, sqs: Any | None = None) -> None:
        self._sqs = sqs
        self._urls: dict[str, str] = {}

    def delay(self, queue_arn: str, receipt_handle: str, seconds: int) -> bool:
        sqs = self._sqs or client("sqs")
        try:
            url = self._urls.get(queue_arn)
            if url is None:
                _, _, _, _, account, name = queue_arn.split(":", 5)
                url = self._urls[queue_arn] = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
                    "QueueUrl"
                ]
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)
        except AWS_ERRORS:
            return False
        except ValueError:  # not an SQS ARN
            return False
        return True
