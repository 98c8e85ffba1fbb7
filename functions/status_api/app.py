"""Status API for the dashboard: organizations, connections, sync state, logs, leads, messages, tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack import bootstrap
from whatrack.adapters.read_dynamo import lead_out, ticket_out
from whatrack.api.models import (
    ConnectionEnvelope,
    ConnectionList,
    ConnectionOut,
    CreatedOrganization,
    HistorySyncDetail,
    LeadDetail,
    LeadList,
    LogList,
    MessageList,
    NewOrganization,
    TicketDetail,
    TicketDetailOut,
    TicketEnvelope,
    TicketList,
    TicketPatch,
)
from whatrack.api.views import connection_out, history_report, organization_out
from whatrack.connections import Connection, NewConnection, sync_alert
from whatrack.http import document_contract_errors, register_error_handlers, reject_non_json_body
from whatrack.inbox import LeadSource
from whatrack.organizations import Organization
from whatrack.timeutil import utcnow

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app)

Limit = Annotated[int, Query(ge=1, le=500, description="page size (1-500)")]
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=2048, pattern=r"^[A-Za-z0-9_-]+$", description="nextCursor of the previous page"),
]
# no maximum here: API Gateway hands over ids still percent-encoded; too-long ids are simply unknown (404)
Id = Annotated[str, Path(min_length=1)]


def _json(model: Any, status: int = 200) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model)


def _card(connection: Connection) -> ConnectionOut:
    stall = timedelta(seconds=bootstrap.status_api_settings().history_stall_after_seconds)
    return connection_out(connection, sync_alert(connection, utcnow(), stall))


def _caller() -> Organization:
    return bootstrap.status_api().organizations.authenticate(app.current_event.headers.get("authorization"))


@app.post(
    "/admin/organizations",
    responses={201: {"description": "Created", "content": {"application/json": {"model": CreatedOrganization}}}},
)
def create_organization(body: Annotated[NewOrganization, Body()]) -> Response[CreatedOrganization]:
    organizations = bootstrap.status_api().organizations
    organizations.require_admin(app.current_event.headers.get("authorization"))
    organization, api_key = organizations.create(body.name)
    return _json(CreatedOrganization(organization=organization_out(organization), api_key=api_key), 201)


@app.post(
    "/connections",
    responses={201: {"description": "Created", "content": {"application/json": {"model": ConnectionEnvelope}}}},
)
def create_connection(body: Annotated[NewConnection, Body()]) -> Response[ConnectionEnvelope]:
    caller = _caller()
    connection = bootstrap.status_api().connections.create(caller.id, body)
    return _json(ConnectionEnvelope(connection=_card(connection)), 201)


@app.get("/connections")
def list_connections() -> Response[ConnectionList]:
    caller = _caller()
    connections = bootstrap.status_api().connections.list(caller.id)
    return _json(ConnectionList(connections=[_card(c) for c in connections]))


@app.get("/connections/<connection_id>")
def get_connection(connection_id: Id) -> Response[ConnectionEnvelope]:
    caller = _caller()
    connection = bootstrap.status_api().connections.get(caller.id, connection_id)
    return _json(ConnectionEnvelope(connection=_card(connection)))


@app.get("/connections/<connection_id>/history-sync")
def get_history_sync(connection_id: Id) -> Response[HistorySyncDetail]:
    api = bootstrap.status_api()
    connection = api.connections.get(_caller().id, connection_id)
    chunks = sorted(api.reader.chunks(connection.id), key=lambda c: (c.phase, c.chunk_order))
    detail = HistorySyncDetail(
        history_sync=_card(connection).history_sync, chunks=chunks, report=history_report(connection, chunks)
    )
    return _json(detail)


@app.get("/connections/<connection_id>/logs")
def get_logs(connection_id: Id, limit: Limit = 50, cursor: Cursor = None) -> Response[LogList]:
    api = bootstrap.status_api()
    connection = api.connections.get(_caller().id, connection_id)
    page = api.reader.logs(connection.id, limit=limit, cursor=cursor)
    return _json(LogList(logs=page.items, next_cursor=page.next_cursor))


@app.get("/leads")
def list_leads(
    limit: Limit = 50,
    cursor: Cursor = None,
    connection_id: Annotated[str | None, Query(alias="connectionId", min_length=1, max_length=64)] = None,
    source: Annotated[LeadSource | None, Query()] = None,
    phone_number: Annotated[str | None, Query(alias="phoneNumber", min_length=1, max_length=40)] = None,
) -> Response[LeadList]:
    api = bootstrap.status_api()
    caller = _caller()
    if connection_id is not None:
        api.connections.get(caller.id, connection_id)
    page = api.reader.leads(
        caller.id,
        limit=limit,
        cursor=cursor,
        source=source.value if source else None,
        connection_id=connection_id,
        phone_number=phone_number,
    )
    return _json(LeadList(leads=page.items, next_cursor=page.next_cursor))


@app.get("/leads/<lead_id>")
def get_lead(lead_id: Id) -> Response[LeadDetail]:
    queries = bootstrap.status_api().queries
    lead = queries.lead(_caller().id, lead_id)
    conversations = queries.reader.conversations_of(lead.id)
    return _json(LeadDetail(lead=lead_out(lead), conversations=conversations))


@app.get("/conversations/<conversation_id>/messages")
def list_messages(conversation_id: Id, limit: Limit = 50, cursor: Cursor = None) -> Response[MessageList]:
    queries = bootstrap.status_api().queries
    conversation = queries.conversation(_caller().id, conversation_id)
    page = queries.reader.messages(conversation.id, limit=limit, cursor=cursor)
    return _json(MessageList(messages=page.items, next_cursor=page.next_cursor))


@app.get("/tickets")
def list_tickets(
    limit: Limit = 50,
    cursor: Cursor = None,
    connection_id: Annotated[str | None, Query(alias="connectionId", min_length=1, max_length=64)] = None,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
) -> Response[TicketList]:
    api = bootstrap.status_api()
    caller = _caller()
    if connection_id is not None:
        api.connections.get(caller.id, connection_id)
    page = api.reader.tickets(caller.id, limit=limit, cursor=cursor, connection_id=connection_id, status=status)
    return _json(TicketList(tickets=page.items, next_cursor=page.next_cursor))


@app.get("/tickets/<ticket_id>")
def get_ticket(ticket_id: Id) -> Response[TicketDetail]:
    queries = bootstrap.status_api().queries
    ticket = queries.ticket(_caller().id, ticket_id)
    messages = queries.reader.all_messages(ticket.conversation_id)
    detail = TicketDetailOut(
        **ticket_out(ticket).model_dump(), lead=lead_out(queries.ticket_lead(ticket)), messages=messages
    )
    return _json(TicketDetail(ticket=detail))


@app.patch("/tickets/<ticket_id>")
def patch_ticket(ticket_id: Id, body: Annotated[TicketPatch, Body()]) -> Response[TicketEnvelope]:
    ticket = bootstrap.status_api().queries.close_ticket(_caller().id, ticket_id)
    return _json(TicketEnvelope(ticket=ticket_out(ticket)))


def openapi_document() -> str:
    """The status API's OpenAPI document, generated from the routes and their models."""
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
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return reject_non_json_body(event) or app.resolve(event, context)
