"""``GET /connections/{id}/templates`` (CONTRACT §7): the WABA's approved templates, what an agent may
send outside Meta's customer service window. Read from Graph with the connection's token (every
page) and kept at most ``ttl`` per connection in this execution environment: the picker opens often,
templates change rarely (an approval takes Meta minutes to hours)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from whatrack.domain.clock import utcnow
from whatrack.domain.errors import RuleViolationError
from whatrack.domain.templates import MessageTemplate, template_of
from whatrack.services.lookups import owned_connection

if TYPE_CHECKING:
    from whatrack.ports import ConnectionRepository, GraphApi, TokenVault

TTL = timedelta(minutes=5)


class TemplateCatalog:
    def __init__(
        self,
        connections: ConnectionRepository,
        vault: TokenVault,
        graph: GraphApi,
        *,
        ttl: timedelta = TTL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._connections = connections
        self._vault = vault
        self._graph = graph
        self._ttl = ttl
        self._clock = clock
        self._kept: dict[str, tuple[datetime, list[MessageTemplate]]] = {}
        self._lock = threading.Lock()

    def approved(self, organization_id: str, connection_id: str) -> list[MessageTemplate]:
        connection = owned_connection(self._connections, organization_id, connection_id)
        if connection.access_token_secret_id is None:
            raise RuleViolationError("this connection has no access token to ask Meta with", code="no_access_token")
        now = self._clock()
        with self._lock:
            kept = self._kept.get(connection.id)
        if kept is not None and now - kept[0] < self._ttl:
            return kept[1]
        token = self._vault.read(connection.access_token_secret_id)
        listed = self._graph.message_templates(connection.waba_id, token)
        templates = sorted((t for t in map(template_of, listed) if t is not None), key=lambda t: (t.name, t.language))
        with self._lock:
            self._kept[connection.id] = (now, templates)
        return templates
