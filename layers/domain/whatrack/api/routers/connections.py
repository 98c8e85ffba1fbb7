"""``/connections``: the InstanceCards, onboarding with Meta, history sync and logs (CONTRACT §6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from whatrack.api.auth import AUTHENTICATED, caller
from whatrack.api.models import (
    ConnectionEnvelope,
    ConnectionList,
    ConnectionOut,
    EmbeddedSignupBody,
    HistorySyncDetail,
    LogList,
    NewConnection,
    RetryResult,
    SyncRequestList,
    TemplateList,
    TemplateOut,
)
from whatrack.api.routers.responses import Cursor, Id, IfNoneMatch, Limit, conditional, json_response
from whatrack.api.views import chunk_out, connection_out, history_report, log_out, sync_request_out
from whatrack.domain.clock import utcnow
from whatrack.domain.connections import Connection, sync_alert
from whatrack.services.connections import Connected
from whatrack.services.embedded_signup import SignupSession
from whatrack.wiring import status_api

router = Router()  # type: ignore[no-untyped-call]

CONNECTED: dict[int, OpenAPIResponse] = {
    201: {"description": "Connected", "content": {"application/json": {"model": ConnectionEnvelope}}},
    200: {
        "description": "Connected again (this organization's number had been disconnected)",
        "content": {"application/json": {"model": ConnectionEnvelope}},
    },
}


def _card(connection: Connection) -> ConnectionOut:
    stall = timedelta(seconds=status_api.settings().history_stall_after_seconds)
    now = utcnow()
    return connection_out(connection, now, sync_alert(connection, now, stall))


def _connected(result: Connected) -> Response[ConnectionEnvelope]:
    return json_response(ConnectionEnvelope(connection=_card(result.connection)), 201 if result.created else 200)


@router.post("/connections", responses=CONNECTED, middlewares=AUTHENTICATED)
def create_connection(body: Annotated[NewConnection, Body()]) -> Response[ConnectionEnvelope]:
    return _connected(status_api.api().connections.connect(caller(router).id, body.to_request()))


@router.post("/connections/embedded-signup", responses=CONNECTED, middlewares=AUTHENTICATED)
def embedded_signup(body: Annotated[EmbeddedSignupBody, Body()]) -> Response[ConnectionEnvelope]:
    session = SignupSession(**body.model_dump())
    return _connected(status_api.api().embedded_signup.connect(caller(router).id, session))


def _or_not_modified(model: type[BaseModel]) -> dict[int, OpenAPIResponse]:
    """The 200 (with its model: the route's return type cannot name it, a 304 has no body) and the 304."""
    return {
        200: {"description": "Successful Response", "content": {"application/json": {"model": model}}},
        304: {"description": "Not modified: the ETag sent in If-None-Match is still current (no body)"},
    }


@router.get("/connections", responses=_or_not_modified(ConnectionList), middlewares=AUTHENTICATED)
def list_connections(if_none_match: IfNoneMatch = None) -> Response[Any]:
    """Every card; its ETag changes with any card and with anything new in any number's inbox."""
    connections = status_api.api().connections.list(caller(router).id)
    cards = ConnectionList(connections=[_card(c) for c in connections])
    return conditional(cards, if_none_match, *(c.activity for c in connections))


@router.get("/connections/<connection_id>", responses=_or_not_modified(ConnectionEnvelope), middlewares=AUTHENTICATED)
def get_connection(connection_id: Id, if_none_match: IfNoneMatch = None) -> Response[Any]:
    """The card; its ETag changes with the card and with anything new in the number's inbox (a message,
    a reaction, an App echo, a status, a ticket, a file): an open screen asks it with If-None-Match
    and reads its own data again only when it changed (one read of the connection when not)."""
    connection = status_api.api().connections.get(caller(router).id, connection_id)
    return conditional(ConnectionEnvelope(connection=_card(connection)), if_none_match, connection.activity)


@router.post("/connections/<connection_id>/refresh", middlewares=AUTHENTICATED)
def refresh_connection(connection_id: Id) -> Response[ConnectionEnvelope]:
    connection = status_api.api().connections.refresh(caller(router).id, connection_id)
    return json_response(ConnectionEnvelope(connection=_card(connection)))


@router.get("/connections/<connection_id>/templates", middlewares=AUTHENTICATED)
def list_templates(connection_id: Id) -> Response[TemplateList]:
    templates = status_api.api().templates.approved(caller(router).id, connection_id)
    return json_response(TemplateList(templates=[TemplateOut.model_validate(t) for t in templates]))


@router.get("/connections/<connection_id>/history-sync", middlewares=AUTHENTICATED)
def get_history_sync(connection_id: Id) -> Response[HistorySyncDetail]:
    detail = status_api.api().queries.history_sync(caller(router).id, connection_id)
    return json_response(
        HistorySyncDetail(
            history_sync=_card(detail.connection).history_sync,
            chunks=[chunk_out(c) for c in detail.chunks],
            report=history_report(detail.connection, detail.chunks),
        )
    )


@router.post(
    "/connections/<connection_id>/history-sync/request",
    responses={202: {"description": "Requested", "content": {"application/json": {"model": SyncRequestList}}}},
    middlewares=AUTHENTICATED,
)
def request_history_sync(connection_id: Id) -> Response[SyncRequestList]:
    requests = status_api.api().sync_requests.request(caller(router).id, connection_id)
    now = utcnow()
    return json_response(SyncRequestList(requests=[sync_request_out(r, now) for r in requests]), 202)


@router.post(
    "/connections/<connection_id>/history-sync/retry",
    responses={202: {"description": "Re-sent", "content": {"application/json": {"model": RetryResult}}}},
    middlewares=AUTHENTICATED,
)
def retry_history_sync(connection_id: Id) -> Response[RetryResult]:
    retried = status_api.api().retry.retry(caller(router).id, connection_id)
    return json_response(RetryResult(retried=retried), 202)


@router.post(
    "/connections/<connection_id>/media/retry",
    responses={202: {"description": "Queued again", "content": {"application/json": {"model": RetryResult}}}},
    middlewares=AUTHENTICATED,
)
def retry_media(connection_id: Id) -> Response[RetryResult]:
    retried = status_api.api().media_retry.retry(caller(router).id, connection_id)
    return json_response(RetryResult(retried=retried), 202)


@router.get("/connections/<connection_id>/logs", middlewares=AUTHENTICATED)
def get_logs(connection_id: Id, limit: Limit = 50, cursor: Cursor = None) -> Response[LogList]:
    page = status_api.api().queries.logs(caller(router).id, connection_id, limit=limit, cursor=cursor)
    return json_response(LogList(logs=[log_out(r) for r in page.items], next_cursor=page.next_cursor))
