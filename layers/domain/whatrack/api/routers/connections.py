"""``/connections``: the InstanceCards, their history sync and logs (CONTRACT §6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from whatrack import bootstrap
from whatrack.api.auth import AUTHENTICATED, caller
from whatrack.api.models import (
    ConnectionEnvelope,
    ConnectionList,
    ConnectionOut,
    HistorySyncDetail,
    LogList,
    NewConnection,
)
from whatrack.api.routers.responses import Cursor, Id, Limit, json_response
from whatrack.api.views import chunk_out, connection_out, history_report, log_out
from whatrack.domain.clock import utcnow
from whatrack.domain.connections import Connection, sync_alert

router = Router()  # type: ignore[no-untyped-call]


def _card(connection: Connection) -> ConnectionOut:
    stall = timedelta(seconds=bootstrap.status_api_settings().history_stall_after_seconds)
    return connection_out(connection, sync_alert(connection, utcnow(), stall))


@router.post(
    "/connections",
    responses={201: {"description": "Created", "content": {"application/json": {"model": ConnectionEnvelope}}}},
    middlewares=AUTHENTICATED,
)
def create_connection(body: Annotated[NewConnection, Body()]) -> Response[ConnectionEnvelope]:
    connection = bootstrap.status_api().connections.create(caller(router).id, body.to_request())
    return json_response(ConnectionEnvelope(connection=_card(connection)), 201)


@router.get("/connections", middlewares=AUTHENTICATED)
def list_connections() -> Response[ConnectionList]:
    connections = bootstrap.status_api().connections.list(caller(router).id)
    return json_response(ConnectionList(connections=[_card(c) for c in connections]))


@router.get("/connections/<connection_id>", middlewares=AUTHENTICATED)
def get_connection(connection_id: Id) -> Response[ConnectionEnvelope]:
    connection = bootstrap.status_api().connections.get(caller(router).id, connection_id)
    return json_response(ConnectionEnvelope(connection=_card(connection)))


@router.get("/connections/<connection_id>/history-sync", middlewares=AUTHENTICATED)
def get_history_sync(connection_id: Id) -> Response[HistorySyncDetail]:
    detail = bootstrap.status_api().queries.history_sync(caller(router).id, connection_id)
    return json_response(
        HistorySyncDetail(
            history_sync=_card(detail.connection).history_sync,
            chunks=[chunk_out(c) for c in detail.chunks],
            report=history_report(detail.connection, detail.chunks),
        )
    )


@router.get("/connections/<connection_id>/logs", middlewares=AUTHENTICATED)
def get_logs(connection_id: Id, limit: Limit = 50, cursor: Cursor = None) -> Response[LogList]:
    page = bootstrap.status_api().queries.logs(caller(router).id, connection_id, limit=limit, cursor=cursor)
    return json_response(LogList(logs=[log_out(r) for r in page.items], next_cursor=page.next_cursor))
