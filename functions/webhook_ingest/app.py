"""Meta webhook endpoint: ``GET /webhook`` handshake and ``POST /webhook`` deliveries."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.entrypoints.observability import function_logger, function_tracer
from whatrack.entrypoints.webhook import serve
from whatrack.wiring import ingest

logger = function_logger()
tracer = function_tracer()
metrics = Metrics(namespace="WhaTrack")


def count(name: str, value: int) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(event, ingest.service, logger=logger, count=count)
