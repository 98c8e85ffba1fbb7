"""The outbox function's Lambda handler: one SQS record (FIFO, per conversation) = one :class:`ReplyJob`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.domain.replies import ReplyJob, SendLater, send_backoff
from whatrack.entrypoints.batches import QueueRecord, partial_batch
from whatrack.entrypoints.observability import function_logger, function_tracer
from whatrack.wiring import replies


def reply_job_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The handler of the outbox and of its dead-letter queue: a send that may heal is reported in
    ``batchItemFailures`` (the queue retries it, holding the conversation's next replies back); a
    dead letter ends its reply ``failed`` with the last error (the agent sends again)."""
    logger = function_logger()
    tracer = function_tracer()
    metrics = Metrics()

    def record_handler(record: QueueRecord[ReplyJob]) -> None:
        logger.append_keys(connection_id=record.body.connection_id)
        if replies.settings().is_dead_letter_queue(record.event_source_arn):
            if replies.sender().give_up(record.body):
                logger.error("reply dead-lettered: failed, the agent can send again")
                metrics.add_metric(name="RepliesDeadLettered", unit=MetricUnit.Count, value=1)
            return
        try:
            replies.sender().send(record.body)
        except SendLater as later:
            # a short, growing wait rather than the queue's whole visibility: the conversation's
            # next replies wait behind this one (FIFO)
            if record.event_source_arn and record.receipt_handle:
                seconds = send_backoff(record.receive_count, later.meta_code)
                replies.retry_delay().delay(record.event_source_arn, record.receipt_handle, seconds)
            raise

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return partial_batch(
            event,
            ReplyJob.decode,
            record_handler,
            logger=logger,
            failed=lambda n: metrics.add_metric(name="ReplyAttemptsFailed", unit=MetricUnit.Count, value=n),
        )

    return lambda_handler
