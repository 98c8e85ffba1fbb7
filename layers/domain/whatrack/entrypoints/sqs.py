"""The queue consumers' Lambda handler (partial batch responses, one record = one change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.domain.changes import ChangeMessage, WebhookField
from whatrack.entrypoints.batches import QueueRecord, partial_batch
from whatrack.entrypoints.observability import function_logger, function_tracer
from whatrack.wiring import consumers


def consumer_handler(handles: frozenset[WebhookField]) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of a queue consumer: partial batch response, one record = one change.

    A record that fails (unparseable body, a field this function does not handle, a transient
    AWS error) is reported in ``batchItemFailures``; SQS retries it and, after
    ``maxReceiveCount``, moves it to the queue's DLQ.
    """
    logger = function_logger()
    tracer = function_tracer()
    metrics = Metrics()

    def record_handler(record: QueueRecord[ChangeMessage]) -> None:
        # the webhook's correlation id follows its change into every log line of the consumer
        logger.set_correlation_id(record.body.correlation_id or record.body.log_id)
        consumer = consumers.consumer()
        if consumers.settings().is_dead_letter_queue(record.event_source_arn):
            consumer.consume_dead_letter(record.body)
        else:
            consumer.consume(record.body, expected=handles)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        event = _without_unreadable_dead_letters(event, logger, metrics)
        if not event.get("Records"):
            return {"batchItemFailures": []}
        # long changes (a contact dump) stop, checkpointed, before the invocation's time runs out
        consumers.invocation().start(context.get_remaining_time_in_millis)
        return partial_batch(
            event,
            ChangeMessage.decode,  # not pydantic's JSON parser, which stops at 200 levels of nesting
            record_handler,
            logger=logger,
            failed=lambda n: metrics.add_metric(name="ChangesFailed", unit=MetricUnit.Count, value=n),
        )

    return lambda_handler


def _without_unreadable_dead_letters(event: dict[str, Any], logger: Any, metrics: Metrics) -> dict[str, Any]:
    """Drop, with an error log and a ``ChangesFailed`` count (alarmed), a dead letter whose body is
    not a change message. Our queues only carry messages we wrote, so this is a bug, not Meta's
    data: that data is in the archive, and its log entry (still ``routed``) is re-driven from there
    by the reconciler. Kept in the queue instead, it would be retried invisibly until it expired."""
    records = event.get("Records")
    if not isinstance(records, list):
        return event
    kept: list[Any] = []
    for record in records:
        if isinstance(record, dict) and consumers.settings().is_dead_letter_queue(record.get("eventSourceARN")):
            try:
                ChangeMessage.decode(record.get("body") or "")
            except (ValueError, RecursionError) as exc:
                logger.error(
                    "unreadable dead letter dropped",
                    extra={"message_id": record.get("messageId"), "error": str(exc)[:300]},
                )
                metrics.add_metric(name="ChangesFailed", unit=MetricUnit.Count, value=1)
                continue
        kept.append(record)
    return {**event, "Records": kept}
