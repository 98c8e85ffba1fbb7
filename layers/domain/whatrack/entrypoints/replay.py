"""The replay function's Lambda handler: one SQS record = one :class:`ReplayJob`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.domain.changes import ReplayJob
from whatrack.entrypoints.batches import QueueRecord, partial_batch
from whatrack.entrypoints.observability import function_logger, function_tracer
from whatrack.wiring import replay


def replay_job_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of the replay queue: one record = one :class:`ReplayJob`; a job that
    fails is reported in ``batchItemFailures`` (retried, then dead-lettered)."""
    logger = function_logger()
    tracer = function_tracer()
    metrics = Metrics()

    def record_handler(record: QueueRecord[ReplayJob]) -> None:
        logger.append_keys(connection_id=record.body.connection_id)
        if replay.settings().is_dead_letter_queue(record.event_source_arn):
            # a job that kept failing: its changes are still kept (unmatched), and the reconciler
            # routes them once they are older than its bound; say so loudly, do not circle
            logger.error("replay job dead-lettered; the reconciler will route its kept changes")
            metrics.add_metric(name="ChangesFailed", unit=MetricUnit.Count, value=1)
            return
        replay.replayer().run(record.body)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # a failed job is tried again; one that keeps failing is counted when it is dead-lettered
        return partial_batch(event, ReplayJob.decode, record_handler, logger=logger, failed=lambda _n: None)

    return lambda_handler
