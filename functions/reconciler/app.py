"""Scheduled reconciler: re-drives changes stuck before an outcome (EventBridge; locally every
``WATCHDOG_INTERVAL_SECONDS``, and ``make reconcile``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.entrypoints.observability import function_logger, function_tracer
from whatrack.wiring import reconciler

logger = function_logger()
tracer = function_tracer()
metrics = Metrics(namespace="WhaTrack")


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return reconciler.reconciler().run().as_dict()
