"""The Lambda handler of a job queue and of its dead-letter queue (the media downloads, the replies'
outbox): one SQS record = one job. A job that may heal is reported in ``batchItemFailures`` (the
queue retries it, then dead-letters it); a dead letter is handed to ``give_up``, which names the
job's ending (counted and logged when it did)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.domain.changes import QueueMessage
from whatrack.entrypoints.batches import QueueRecord, partial_batch
from whatrack.entrypoints.observability import function_logger, function_tracer


def job_handler[J: QueueMessage](
    decode: Callable[[str], J],
    *,
    is_dead_letter: Callable[[str | None], bool],
    work: Callable[[QueueRecord[J]], None],
    give_up: Callable[[J], bool],
    dead_lettered: str,
    dead_lettered_metric: str,
    failed_metric: str,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    logger = function_logger()
    tracer = function_tracer()
    metrics = Metrics()

    def record_handler(record: QueueRecord[J]) -> None:
        logger.append_keys(connection_id=getattr(record.body, "connection_id", None))
        if is_dead_letter(record.event_source_arn):
            if give_up(record.body):
                logger.error(dead_lettered)
                metrics.add_metric(name=dead_lettered_metric, unit=MetricUnit.Count, value=1)
            return
        work(record)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return partial_batch(
            event,
            decode,
            record_handler,
            logger=logger,
            failed=lambda n: metrics.add_metric(name=failed_metric, unit=MetricUnit.Count, value=n),
        )

    return lambda_handler
