"""Meta webhook endpoint: ``GET /webhook`` handshake and ``POST /webhook`` deliveries."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.domain.errors import InvalidInputError
from whatrack.domain.log import LogStatus
from whatrack.entrypoints.http import register_error_handlers
from whatrack.entrypoints.observability import function_logger, function_tracer
from whatrack.wiring import ingest

logger = function_logger()
tracer = function_tracer()
metrics = Metrics(namespace="WhaTrack")
app = APIGatewayHttpResolver()
register_error_handlers(app)


def raw_body(event: dict[str, Any]) -> bytes:
    """The exact bytes Meta sent: base64-decoded when API Gateway marked the body so."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError("body is marked base64 but is not valid base64") from exc
    return body.encode("utf-8")


@app.get("/webhook")
def verify() -> Response[str]:
    params = app.current_event.query_string_parameters or {}
    challenge = ingest.service().verify_subscription(
        params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge")
    )
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=challenge)


@app.post("/webhook")
def receive() -> Response[str]:
    report = ingest.service().receive(
        raw_body(app.current_event.raw_event),
        app.current_event.headers.get("x-hub-signature-256"),
        correlation_id=logger.get_correlation_id(),
    )
    for status in LogStatus:
        if count := report.count(status):
            metrics.add_metric(name=f"Changes{status.value.capitalize()}", unit=MetricUnit.Count, value=count)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body='{"status": "ok"}',
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
