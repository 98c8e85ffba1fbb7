"""``/admin``: organizations, with the admin key (CONTRACT §5)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from whatrack.api.auth import ADMIN
from whatrack.api.models import CreatedOrganization, NewOrganization
from whatrack.api.routers.responses import json_response
from whatrack.api.views import organization_out
from whatrack.wiring import status_api

router = Router()  # type: ignore[no-untyped-call]


@router.post(
    "/admin/organizations",
    responses={201: {"description": "Created", "content": {"application/json": {"model": CreatedOrganization}}}},
    middlewares=ADMIN,
)
def create_organization(body: Annotated[NewOrganization, Body()]) -> Response[CreatedOrganization]:
    organization, api_key = status_api.api().organizations.create(body.name)
    return json_response(CreatedOrganization(organization=organization_out(organization), api_key=api_key), 201)
