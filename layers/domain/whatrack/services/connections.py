"""Connecting numbers: the InstanceCards of an organization."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from whatrack.domain.clock import utcnow
from whatrack.domain.connections import (
    Connection,
    ConnectionRequest,
    ConnectionStatus,
    HistorySyncState,
    digits_only,
    initial_history_status,
    plausible_id,
)
from whatrack.domain.errors import ConflictError, NotFoundError, TransientError
from whatrack.domain.ids import new_id
from whatrack.ports import ConnectionRepository, TokenVault
from whatrack.services.replay import UnmatchedReplayer

logger = Logger(child=True)


def owned_connection(repository: ConnectionRepository, organization_id: str, connection_id: str) -> Connection:
    """A connection of this organization; another organization's is answered as missing (404)."""
    connection = repository.get(connection_id) if plausible_id(connection_id) else None
    if connection is None or connection.organization_id != organization_id:
        raise NotFoundError(f"connection {connection_id} not found")
    return connection


class ConnectionService:
    def __init__(
        self, repository: ConnectionRepository, vault: TokenVault, replayer: UnmatchedReplayer | None = None
    ) -> None:
        self._repository = repository
        self._vault = vault
        self._replayer = replayer

    def create(self, organization_id: str, request: ConnectionRequest) -> Connection:
        connection_id = new_id()
        secret_id = self._vault.store(connection_id, request.access_token) if request.access_token else None
        connection = Connection(
            id=connection_id,
            organization_id=organization_id,
            phone_number_id=request.phone_number_id,
            waba_id=request.waba_id,
            display_phone_number=digits_only(request.display_phone_number),
            display_name=request.display_name,
            mode=request.mode,
            sync_history=request.sync_history,
            connection_status=ConnectionStatus.ACTIVE,
            created_at=utcnow(),
            access_token_secret_id=secret_id,
            history=HistorySyncState(status=initial_history_status(request.mode, request.sync_history)),
        )
        try:
            self._repository.create(connection)
        except ConflictError:
            if secret_id is not None:
                self._vault.delete(secret_id)
            raise
        if self._replayer is not None:
            try:
                self._replayer.replay(connection)
            except TransientError:
                # the connection exists; its kept changes stay "unmatched" and are replayed by the retry endpoint
                logger.exception("replaying unmatched changes failed", extra={"connection_id": connection.id})
        return connection

    def get(self, organization_id: str, connection_id: str) -> Connection:
        """A connection of this organization; another organization's is answered as missing."""
        return owned_connection(self._repository, organization_id, connection_id)

    def list(self, organization_id: str) -> list[Connection]:
        """Newest first."""
        return self._repository.list_for_organization(organization_id)
