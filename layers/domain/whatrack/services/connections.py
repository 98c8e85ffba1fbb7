"""Connecting numbers (the InstanceCards): ownership checked with Meta, reconnection, refresh."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.clock import utcnow
from whatrack.domain.connections import (
    Connection,
    ConnectionMode,
    ConnectionStatus,
    HistorySyncState,
    initial_history_status,
)
from whatrack.domain.errors import ConflictError, RuleViolationError, TransientError, UpstreamError
from whatrack.domain.ids import new_id
from whatrack.domain.routing import digits_only
from whatrack.services.lookups import owned_connection

if TYPE_CHECKING:
    from whatrack.domain.connections import (
        ConnectionRequest,
    )
    from whatrack.domain.onboarding import PhoneNumber
    from whatrack.ports import AuditLog, ConnectionRepository, GraphApi, TokenVault
    from whatrack.services.number_check import NumberChecker
    from whatrack.services.replay import ReplayScheduler
    from whatrack.services.sync_requests import SyncRequester

logger = Logger(child=True)


@dataclass(frozen=True)
class Connected:
    connection: Connection
    created: bool
    """False when a disconnected number of the same organization was connected again."""


class ConnectionService:
    def __init__(
        self,
        repository: ConnectionRepository,
        vault: TokenVault,
        *,
        replays: ReplayScheduler,
        graph: GraphApi,
        audit: AuditLog,
        requester: SyncRequester,
        numbers: NumberChecker,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._repository = repository
        self._vault = vault
        self._replays = replays
        self._graph = graph
        self._audit = audit
        self._requester = requester
        self._numbers = numbers
        self._clock = clock

    # ------------------------------------------------------------------ connect
    def connect(
        self, organization_id: str, request: ConnectionRequest, *, numbers: list[PhoneNumber] | None = None
    ) -> Connected:
        """Connect a number (``201``), or connect again one this organization had disconnected (``200``).

        With a token the number is checked first: ``GET /{waba}/phone_numbers`` must list it
        (``numbers``, when the caller already has that list). Another organization's number, or an
        active one, is a ``409``.
        """
        existing = self._repository.find_by_phone_number_id(request.phone_number_id)
        if existing is not None:
            self._may_reconnect(organization_id, existing, request)  # a 409 needs no call to Meta
        verified = False
        if request.access_token is not None:
            self._check_ownership(request, request.access_token, numbers)
            verified = True
        if existing is not None:
            return Connected(self._reconnect(existing, request, verified), created=False)
        connection = self._create(organization_id, request, verified)
        self._schedule_replay(connection)
        if request.access_token is not None and connection.mode is ConnectionMode.COEXISTENCE:
            self._requester.request_after_connect(connection, request.access_token)
            connection = self._repository.get(connection.id) or connection
        return Connected(connection, created=True)

    def _schedule_replay(self, connection: Connection) -> None:
        """Changes kept for the number are replayed by a job, after the answer (a backlog can be large).

        The connection exists whatever happens here, so a job that could not be queued does not fail
        the request: it is logged as an error and an audit entry of the card, and the reconciler,
        which finds changes still kept for a connected number, enqueues it again.
        """
        try:
            self._replays.schedule(connection)
        except TransientError as exc:
            logger.exception("queueing the replay of kept changes failed", extra={"connection_id": connection.id})
            now = self._clock()
            try:
                self._audit.record(
                    connection.id,
                    "unmatched_replay_deferred",
                    now,
                    key=f"replay_deferred:{now.isoformat()}",
                    error=f"{exc.message}; the reconciler replays the kept changes",
                )
            except TransientError:
                logger.exception("auditing the deferred replay failed", extra={"connection_id": connection.id})

    def _create(self, organization_id: str, request: ConnectionRequest, verified: bool) -> Connection:
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
            created_at=self._clock(),
            access_token_secret_id=secret_id,
            verified=verified,
            history=HistorySyncState(status=initial_history_status(request.mode, request.sync_history)),
        )
        try:
            self._repository.create(connection)
        except ConflictError:
            if secret_id is not None:
                self._vault.delete(secret_id)
            raise
        return connection

    def _check_ownership(self, request: ConnectionRequest, token: str, numbers: list[PhoneNumber] | None) -> None:
        if numbers is None:
            try:
                numbers = self._graph.phone_numbers(request.waba_id, token)
            except UpstreamError as exc:
                if not exc.definite:
                    raise
                raise RuleViolationError(
                    f"Meta refused to list the numbers of WABA {request.waba_id} with this token: {exc.meta_error}",
                    code="number_not_owned",
                ) from exc
        if request.phone_number_id not in {n.id for n in numbers}:
            listed = ", ".join(n.id for n in numbers) or "none"
            raise RuleViolationError(
                f"phone number id {request.phone_number_id} is not a number of WABA {request.waba_id} "
                f"for this token (Meta lists: {listed})",
                code="number_not_owned",
            )

    @staticmethod
    def _may_reconnect(organization_id: str, existing: Connection, request: ConnectionRequest) -> None:
        """Only its organization connects a disconnected number again, on the same WABA."""
        if existing.organization_id != organization_id or existing.connection_status is ConnectionStatus.ACTIVE:
            raise ConflictError(
                f"phone number id {request.phone_number_id} is already connected", code="phone_number_already_connected"
            )
        if existing.waba_id != request.waba_id:
            raise RuleViolationError(
                f"phone number id {request.phone_number_id} was connected with WABA {existing.waba_id}; "
                "connecting it again keeps its WABA",
                code="waba_mismatch",
            )

    def _reconnect(self, existing: Connection, request: ConnectionRequest, verified: bool) -> Connection:
        secret_id = self._vault.store(existing.id, request.access_token) if request.access_token else None
        now = self._clock()
        if not self._repository.reconnect(
            existing, now, access_token_secret_id=secret_id, verified=verified or existing.verified
        ):
            raise ConflictError(
                f"phone number id {request.phone_number_id} was connected again meanwhile",
                code="phone_number_already_connected",
            )
        self._audit.record(existing.id, "connection_reconnected", now, key=f"reconnected:{now.isoformat()}")
        return self._repository.get(existing.id) or existing

    # ------------------------------------------------------------------ read
    def get(self, organization_id: str, connection_id: str) -> Connection:
        """A connection of this organization; another organization's is answered as missing."""
        return owned_connection(self._repository, organization_id, connection_id)

    def list(self, organization_id: str) -> list[Connection]:
        """Newest first."""
        return self._repository.list_for_organization(organization_id)

    # ------------------------------------------------------------------ refresh
    def refresh(self, organization_id: str, connection_id: str) -> Connection:
        """Ask Meta for the number's state; only a definite answer changes the card (else ``502``)."""
        connection = owned_connection(self._repository, organization_id, connection_id)
        self._numbers.check_number(connection)
        return self._repository.get(connection.id) or connection
