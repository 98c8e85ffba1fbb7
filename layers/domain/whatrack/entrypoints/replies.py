"""The outbox function's Lambda handler: one SQS record (FIFO, per conversation) = one :class:`ReplyJob`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.domain.replies import ReplyJob, SendLater, send_backoff
from whatrack.entrypoints.batches import QueueRecord
from whatrack.entrypoints.jobs import job_handler
from whatrack.wiring import replies


def reply_job_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The outbox and its dead-letter queue: a send that may heal comes back after a short, growing
    wait (its conversation's next replies wait behind it: FIFO); a dead letter ends its reply
    ``failed`` with the last error (the agent sends again)."""

    def send(record: QueueRecord[ReplyJob]) -> None:
        try:
            replies.sender().send(record.body)
        except SendLater as later:
            if record.event_source_arn and record.receipt_handle:
                seconds = (
                    later.after if later.after is not None else send_backoff(record.receive_count, later.meta_code)
                )
                replies.retry_delay().delay(record.event_source_arn, record.receipt_handle, seconds)
            raise

    return job_handler(
        ReplyJob.decode,
        is_dead_letter=lambda arn: replies.settings().is_dead_letter_queue(arn),
        work=send,
        give_up=lambda job: replies.sender().give_up(job),
        dead_lettered="reply dead-lettered: failed, the agent can send again",
        dead_lettered_metric="RepliesDeadLettered",
        failed_metric="ReplyAttemptsFailed",
    )
