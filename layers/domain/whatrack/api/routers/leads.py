"""``/leads`` and a conversation's ``/messages`` (CONTRACT §7)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from whatrack.api.auth import AUTHENTICATED, caller
from whatrack.api.models import LeadDetail, LeadEnvelope, LeadList, MessageList, NewLead
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
from whatrack.api.views import conversation_summary, lead_out, message_out
from whatrack.domain.inbox import LeadSource
from whatrack.wiring import status_api

router = Router()  # type: ignore[no-untyped-call]


@router.get("/leads", middlewares=AUTHENTICATED)
def list_leads(
    limit: Limit = 50,
    cursor: Cursor = None,
    connection_id: ConnectionFilter = None,
    source: Annotated[LeadSource | None, Query()] = None,
    phone_number: Annotated[str | None, Query(alias="phoneNumber", min_length=1, max_length=40)] = None,
    sort: Sort = None,
) -> Response[LeadList]:
    page = status_api.api().queries.leads(
        caller(router).id,
        limit=limit,
        cursor=cursor,
        source=source,
        connection_id=connection_id,
        phone_number=phone_number,
        by_activity=sort == "activity",
    )
    return json_response(LeadList(leads=[lead_out(lead) for lead in page.items], next_cursor=page.next_cursor))


CREATED_LEAD: dict[int, OpenAPIResponse] = {
    201: {"description": "Created (source direct_creation)", "content": {"application/json": {"model": LeadEnvelope}}},
    200: {
        "description": "This person is a lead already (any form of the number): that lead, unchanged",
        "content": {"application/json": {"model": LeadEnvelope}},
    },
}


@router.post("/leads", responses=CREATED_LEAD, middlewares=AUTHENTICATED)
def create_lead(body: Annotated[NewLead, Body()]) -> Response[LeadEnvelope]:
    made = status_api.api().new_conversations.create_lead(caller(router).id, body.phone_number, body.push_name)
    return json_response(LeadEnvelope(lead=lead_out(made.lead)), 201 if made.created else 200)


@router.get("/leads/<lead_id>", middlewares=AUTHENTICATED)
def get_lead(lead_id: Id) -> Response[LeadDetail]:
    detail = status_api.api().queries.lead(caller(router).id, lead_id)
    return json_response(
        LeadDetail(lead=lead_out(detail.lead), conversations=[conversation_summary(c) for c in detail.conversations])
    )


@router.get("/conversations/<conversation_id>/messages", middlewares=AUTHENTICATED)
def list_messages(
    conversation_id: Id, limit: Limit = 50, cursor: Cursor = None, latest: Latest = False
) -> Response[MessageList]:
    page = status_api.api().queries.messages(
        caller(router).id, conversation_id, limit=limit, cursor=cursor, latest=latest
    )
    return json_response(
        MessageList(
            messages=[message_out(m, status_api.api().media_links) for m in page.items],
            **conversation_cursors(page.next_cursor, latest),
        )
    )
