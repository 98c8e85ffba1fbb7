"""The status API's routes, one Powertools ``Router`` per resource (CONTRACT §5-7)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from whatrack.api.routers import admin, connections, leads, tickets

ROUTERS: tuple[Router, ...] = (admin.router, connections.router, leads.router, tickets.router)
