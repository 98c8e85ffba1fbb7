"""``/tickets``: tickets of live traffic, one with its lead and whole timeline, closing (CONTRACT §7), and
those an agent or an integration opens (§7a)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from whatrack.api.auth import AUTHENTICATED, caller
from whatrack.api.models import (
    NewTicket,
    ReplyBody,
    ReplyEnvelope,
    TicketDetail,
    TicketDetailOut,
    TicketEnvelope,
    TicketList,
    TicketPatch,
)
from whatrack.api.routers.responses import (
    ConnectionFilter,
    Cursor,
    Id,
    Latest,
    Limit,
    Sort,
    conversation_cursors,
    json_response,
)
from whatrack.api.views import lead_out, message_out, ticket_out
from whatrack.domain.inbox import TicketSource
from whatrack.domain.replies import ReplyRequest, TemplateRequest
from whatrack.wiring import status_api

router = Router()  # type: ignore[no-untyped-call]


@router.get("/tickets", middlewares=AUTHENTICATED)
def list_tickets(
    limit: Limit = 50,
    cursor: Cursor = None,
    connection_id: ConnectionFilter = None,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    sort: Sort = None,
) -> Response[TicketList]:
    page = status_api.api().queries.tickets(
        caller(router).id,
        limit=limit,
        cursor=cursor,
        connection_id=connection_id,
        status=status,
        by_activity=sort == "activity",
    )
    return json_response(TicketList(tickets=[ticket_out(t) for t in page.items], next_cursor=page.next_cursor))


OPENED_TICKET: dict[int, OpenAPIResponse] = {
    201: {"description": "Opened", "content": {"application/json": {"model": TicketEnvelope}}},
    200: {
        "description": "The conversation has an open ticket already: that one",
        "content": {"application/json": {"model": TicketEnvelope}},
    },
}


@router.post("/tickets", responses=OPENED_TICKET, middlewares=AUTHENTICATED)
def open_ticket(body: Annotated[NewTicket, Body()]) -> Response[TicketEnvelope]:
    opened = status_api.api().new_conversations.open_ticket(
        caller(router).id, body.lead_id, body.connection_id, TicketSource(body.source)
    )
    return json_response(TicketEnvelope(ticket=ticket_out(opened.ticket)), 201 if opened.created else 200)


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="chosen by the client: the same key with the same body is the same message, sent once",
    ),
]
ACCEPTED_REPLY: dict[int, OpenAPIResponse] = {
    202: {
        "description": "Accepted: pending, on its way to Meta",
        "content": {"application/json": {"model": ReplyEnvelope}},
    }
}


@router.post("/tickets/<ticket_id>/messages", responses=ACCEPTED_REPLY, middlewares=AUTHENTICATED)
def reply(
    ticket_id: Id, body: Annotated[ReplyBody, Body()], idempotency_key: IdempotencyKey
) -> Response[ReplyEnvelope]:
    template = body.template
    request = ReplyRequest(
        text=body.text,
        reply_to_id=body.reply_to_id,
        preview_url=body.preview_url,
        template=TemplateRequest(template.name, template.language, tuple(template.parameters)) if template else None,
    )
    message = status_api.api().replies.accept(caller(router).id, ticket_id, idempotency_key, request)
    return json_response(ReplyEnvelope(message=message_out(message, status_api.api().media_links)), 202)


TimelineLimit = Annotated[int, Query(ge=1, le=500, description="messages per page (1-500, default 200)")]


@router.get("/tickets/<ticket_id>", middlewares=AUTHENTICATED)
def get_ticket(
    ticket_id: Id, limit: TimelineLimit = 200, cursor: Cursor = None, latest: Latest = False
) -> Response[TicketDetail]:
    detail = status_api.api().queries.ticket(caller(router).id, ticket_id, limit=limit, cursor=cursor, latest=latest)
    ticket = TicketDetailOut(
        **ticket_out(detail.ticket).model_dump(),
        lead=lead_out(detail.lead),
        messages=[message_out(m, status_api.api().media_links) for m in detail.messages.items],
    )
    return json_response(TicketDetail(ticket=ticket, **conversation_cursors(detail.messages.next_cursor, latest)))


@router.patch("/tickets/<ticket_id>", middlewares=AUTHENTICATED)
def patch_ticket(ticket_id: Id, body: Annotated[TicketPatch, Body()]) -> Response[TicketEnvelope]:
    queries = status_api.api().queries
    if body.status == "open":
        ticket = queries.reopen_ticket(caller(router).id, ticket_id)
    else:
        ticket = queries.close_ticket(caller(router).id, ticket_id)
    return json_response(TicketEnvelope(ticket=ticket_out(ticket)))
