"""Status API for the dashboard: organizations, connections and (later) sync state, leads, tickets."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack import bootstrap
from whatrack.api.models import (
    ConnectionEnvelope,
    ConnectionList,
    CreatedOrganization,
    NewOrganization,
)
from whatrack.api.views import connection_out, organization_out
from whatrack.connections import NewConnection
from whatrack.http import register_error_handlers
from whatrack.organizations import Organization

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app)


def _json(model: Any, status: int = 200) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model)


def _caller() -> Organization:
    return bootstrap.status_api().organizations.authenticate(app.current_event.headers.get("authorization"))


@app.post("/admin/organizations", responses={201: {"description": "Created"}})
def create_organization(body: Annotated[NewOrganization, Body()]) -> Response[CreatedOrganization]:
    organizations = bootstrap.status_api().organizations
    organizations.require_admin(app.current_event.headers.get("authorization"))
    organization, api_key = organizations.create(body.name)
    return _json(CreatedOrganization(organization=organization_out(organization), api_key=api_key), 201)


@app.post("/connections", responses={201: {"description": "Created"}})
def create_connection(body: Annotated[NewConnection, Body()]) -> Response[ConnectionEnvelope]:
    caller = _caller()
    connection = bootstrap.status_api().connections.create(caller.id, body)
    return _json(ConnectionEnvelope(connection=connection_out(connection)), 201)


@app.get("/connections")
def list_connections() -> Response[ConnectionList]:
    caller = _caller()
    connections = bootstrap.status_api().connections.list(caller.id)
    return _json(ConnectionList(connections=[connection_out(c) for c in connections]))


@app.get("/connections/<connection_id>")
def get_connection(connection_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[ConnectionEnvelope]:
    caller = _caller()
    connection = bootstrap.status_api().connections.get(caller.id, connection_id)
    return _json(ConnectionEnvelope(connection=connection_out(connection)))


@app.get("/openapi.json")
def openapi() -> Response[Any]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=app.get_openapi_json_schema(title="WhaTrack Coexistence Sync - Status API", version="1.0.0"),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
