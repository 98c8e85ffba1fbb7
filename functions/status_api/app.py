"""Status API for the dashboard: organizations, connections, sync state, logs, leads, messages, tickets."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.api.openapi import document_contract_errors
from whatrack.api.routers import ROUTERS
from whatrack.entrypoints.http import register_error_handlers, reject_non_json_body
from whatrack.entrypoints.observability import function_logger, function_tracer

logger = function_logger()
tracer = function_tracer()
app = APIGatewayHttpResolver(enable_validation=True)
for router in ROUTERS:
    app.include_router(router)
register_error_handlers(app)


def openapi_document() -> str:
    """The status API's OpenAPI document, generated from the routes and their models (Powertools'
    OpenAPI models load here, for this route only: ~150 ms of every cold start otherwise)."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    document = app.get_openapi_json_schema(
        title="WhaTrack Coexistence Sync - Status API",
        version="1.0.0",
        description="Instance cards, history-sync state, logs, leads, conversations and tickets (CONTRACT §5-7).",
        security_schemes={"bearerAuth": HTTPBearer(description="organization API key (admin key for /admin)")},
        security=[{"bearerAuth": []}],
    )
    return document_contract_errors(document)


@app.get("/openapi.json")
def openapi() -> Response[Any]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return reject_non_json_body(event) or app.resolve(event, context)
