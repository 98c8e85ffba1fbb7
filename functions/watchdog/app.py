"""Scheduled watchdog: stall alerts and the daily number check (EventBridge; locally every
``WATCHDOG_INTERVAL_SECONDS``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.entrypoints.observability import function_logger, function_tracer
from whatrack.wiring import watchdog

logger = function_logger()
tracer = function_tracer()
metrics = Metrics(namespace="WhaTrack")


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = watchdog.watchdog().run()
    return {
        "connections": report.connections,
        "raised": len(report.raised),
        "cleared": len(report.cleared),
        "checked": report.checked,
        "checkFailures": report.check_failures,
    }
