"""Who is calling: route middlewares that authenticate the caller before the route runs.

Request validation runs first (Powertools puts it ahead of route middlewares), so a malformed
request is a ``400`` whoever sends it; then a missing or unknown key is a ``401``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from whatrack.domain.organizations import Organization
from whatrack.wiring import status_api

ORGANIZATION = "organization"


def organization_auth(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """``Authorization: Bearer <organization API key>`` → the calling organization, in the context."""
    organization = status_api.api().organizations.authenticate(app.current_event.headers.get("authorization"))
    app.append_context(**{ORGANIZATION: organization})  # type: ignore[no-untyped-call]
    return next_middleware(app)


def admin_auth(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """``Authorization: Bearer <admin API key>``."""
    status_api.api().organizations.require_admin(app.current_event.headers.get("authorization"))
    return next_middleware(app)


def caller(router: Router) -> Organization:
    """The organization :func:`organization_auth` authenticated for this request."""
    organization = router.context[ORGANIZATION]
    assert isinstance(organization, Organization)
    return organization


AUTHENTICATED = [organization_auth]
ADMIN = [admin_auth]
