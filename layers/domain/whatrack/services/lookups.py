"""Organization-scoped lookups every use case shares: another organization's resource is a 404."""

from __future__ import annotations

from typing import TYPE_CHECKING

from whatrack.domain.connections import plausible_id
from whatrack.domain.errors import NotFoundError

if TYPE_CHECKING:
    from whatrack.domain.connections import Connection
    from whatrack.ports import ConnectionRepository


def owned_connection(repository: ConnectionRepository, organization_id: str, connection_id: str) -> Connection:
    """A connection of this organization; another organization's is answered as missing (404)."""
    connection = repository.get(connection_id) if plausible_id(connection_id) else None
    if connection is None or connection.organization_id != organization_id:
        raise NotFoundError(f"connection {connection_id} not found")
    return connection
