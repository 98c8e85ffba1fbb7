"""The media function's Lambda handler: one SQS record = one :class:`MediaJob`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.domain.media import MediaJob
from whatrack.entrypoints.batches import QueueRecord, partial_batch
from whatrack.entrypoints.observability import function_logger, function_tracer
from whatrack.wiring import media


def media_job_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of the media queue and of its dead-letter queue: a job that may heal is
    reported in ``batchItemFailures`` (retried with the queue's backoff, then dead-lettered); a dead
    letter settles its file ``failed`` with the last error (retryable from the dashboard)."""
    logger = function_logger()
    tracer = function_tracer()
    metrics = Metrics()

    def record_handler(record: QueueRecord[MediaJob]) -> None:
        logger.append_keys(connection_id=record.body.connection_id)
        if media.settings().is_dead_letter_queue(record.event_source_arn):
            if media.fetcher().give_up(record.body):
                logger.error("media download dead-lettered: the file is failed, retryable")
                metrics.add_metric(name="MediaDeadLettered", unit=MetricUnit.Count, value=1)
            return
        media.fetcher().fetch(record.body)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return partial_batch(
            event,
            MediaJob.decode,
            record_handler,
            logger=logger,
            failed=lambda n: metrics.add_metric(name="MediaAttemptsFailed", unit=MetricUnit.Count, value=n),
        )

    return lambda_handler
