"""Asking Meta for the contacts and the history (``smb_app_data``): once per sync type, never blindly twice.

The intent is saved before Meta is called and the answer after: a crash in between leaves the
request ``pending`` (shown ``unknown`` after a while), and only a request Meta refused may be sent
again. Contacts first, then history, as Meta asks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.clock import iso, utcnow
from whatrack.domain.connections import ConnectionMode, ConnectionStatus
from whatrack.domain.errors import ConflictError, DomainError, RuleViolationError, UpstreamError
from whatrack.domain.onboarding import SyncOutcome, sync_types_for
from whatrack.services.lookups import owned_connection

if TYPE_CHECKING:
    from whatrack.domain.connections import Connection
    from whatrack.domain.onboarding import SyncRequest, SyncType
    from whatrack.ports import AuditLog, ConnectionRepository, GraphApi, HistorySyncStore, TokenVault

logger = Logger(child=True)


class SyncRequester:
    def __init__(
        self,
        *,
        connections: ConnectionRepository,
        sync: HistorySyncStore,
        vault: TokenVault,
        graph: GraphApi,
        audit: AuditLog,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._connections = connections
        self._sync = sync
        self._vault = vault
        self._graph = graph
        self._audit = audit
        self._clock = clock

    def request(self, organization_id: str, connection_id: str) -> list[SyncRequest]:
        """``POST /connections/{id}/history-sync/request``: the accepted requests after this call.

        ``422`` when the number cannot share (cloud API), has no token, is disconnected, or the 24 h
        window passed; ``409`` when every sync type was already requested, one is in progress, or an
        earlier answer was lost; ``502`` with Meta's error when Graph fails (retryable when Meta
        answered, never when its answer was lost).
        """
        connection = owned_connection(self._connections, organization_id, connection_id)
        now = self._clock()
        due = checked(connection, now)
        token = self._vault.read(str(connection.access_token_secret_id))
        for sync_type in due:
            if not self._sync.begin_request(connection.id, sync_type, now):
                raise ConflictError(
                    f"a {sync_type.value} request is already in progress", code="sync_request_in_progress"
                )
            error = self._ask(connection, token, sync_type, now)
            if error is not None:
                raise error  # contacts first: history waits until Meta took the contacts request
        return self._accepted(connection.id)

    def request_after_connect(self, connection: Connection, token: str) -> None:
        """The automatic request right after a coexistence number is connected with a token.

        Never fails the connection: Meta's refusal or silence, a misconfiguration or a storage fault
        is recorded on the card, the audit log or the log, and ``POST .../history-sync/request`` may
        try again (the connection exists: a 5xx now would make the caller create it again).
        """
        now = self._clock()
        try:
            for sync_type in due_sync_types(connection, now, refuse=False):
                if not self._sync.begin_request(connection.id, sync_type, now):
                    return
                if self._ask(connection, token, sync_type, now) is not None:
                    return  # contacts first
        except DomainError:
            logger.exception("automatic sync request not sent", extra={"connection_id": connection.id})

    def _ask(self, connection: Connection, token: str, sync_type: SyncType, now: datetime) -> UpstreamError | None:
        """One request, its answer recorded and audited; Meta's error when it failed."""
        try:
            request_id = self._graph.request_sync(connection.phone_number_id, token, sync_type)
        except UpstreamError as exc:
            outcome = SyncOutcome.UNKNOWN if exc.answer_lost else SyncOutcome.FAILED
            code = str(exc.meta_code) if exc.meta_code is not None else exc.code
            self._sync.finish_request(
                connection.id, sync_type, outcome, self._clock(), error_code=code, error_message=exc.message
            )
            self._audit.record(
                connection.id,
                "sync_request_failed",
                now,
                key=f"sync_request_failed:{sync_type.value}:{iso(now)}",
                status=outcome.value,
                error=f"{sync_type.value}: {exc.meta_error}",
            )
            logger.warning(
                "sync request failed",
                extra={"connection_id": connection.id, "sync_type": sync_type.value, "outcome": outcome.value},
            )
            return exc
        self._sync.finish_request(connection.id, sync_type, SyncOutcome.ACCEPTED, self._clock(), request_id=request_id)
        self._audit.record(
            connection.id,
            "sync_requested",
            now,
            key=f"sync_requested:{sync_type.value}",
            status=f"{sync_type.value} request_id={request_id}",
        )
        return None

    def _accepted(self, connection_id: str) -> list[SyncRequest]:
        connection = self._connections.get(connection_id)
        requests = connection.sync_requests if connection else ()
        return [r for r in requests if r.outcome is SyncOutcome.ACCEPTED]


# ---------------------------------------------------------------------------------------------- what may be asked now
def checked(connection: Connection, now: datetime) -> list[SyncType]:
    """The sync types a request would ask Meta for now, or the refusal it answers (422 or 409)."""
    if connection.mode is not ConnectionMode.COEXISTENCE:
        raise RuleViolationError(
            "only a number that stays on the WhatsApp Business App (coexistence) can share its history",
            code="not_coexistence",
        )
    if connection.access_token_secret_id is None:
        raise RuleViolationError(
            "this connection has no access token: connect it with Embedded Signup or an accessToken",
            code="no_access_token",
        )
    due = due_sync_types(connection, now)  # 409 before the window: a finished request stays finished
    if connection.connection_status is ConnectionStatus.DISCONNECTED:
        raise RuleViolationError(
            "this number is disconnected from the partner: connect it again first", code="connection_disconnected"
        )
    if not connection.may_request_sync(now):
        raise RuleViolationError(
            "Meta takes the sync request only within 24 h of onboarding: offboard and onboard the number again",
            code="sync_window_expired",
        )
    return due


def request_refusal(connection: Connection, now: datetime) -> str | None:
    """Why ``POST .../history-sync/request`` would be refused now (its error code), or ``None``: the card
    offers the action only where it can work, and says why not."""
    try:
        checked(connection, now)
    except DomainError as exc:
        return exc.code
    return None


def due_sync_types(connection: Connection, now: datetime, *, refuse: bool = True) -> list[SyncType]:
    """The sync types to ask for now, in Meta's order: from the first not accepted on, and only
    while each may be sent (a request in progress or whose answer was lost stops the walk)."""
    due: list[SyncType] = []
    for sync_type in sync_types_for(connection.sync_history):
        known = connection.sync_request(sync_type)
        if known is None or known.may_be_sent:
            due.append(sync_type)
            continue
        outcome = known.outcome_at(now)
        if outcome is SyncOutcome.ACCEPTED:
            continue
        if due or not refuse:
            break
        if outcome is SyncOutcome.PENDING:
            raise ConflictError(
                f"the {sync_type.value} request of {iso(known.requested_at)} is still waiting for Meta's answer",
                code="sync_request_in_progress",
            )
        raise ConflictError(
            f"the answer to the {sync_type.value} request of {iso(known.requested_at)} was lost; Meta takes "
            "one request per sync type, so it is not sent again: wait for the contacts and history, or "
            "onboard the number again",
            code="sync_request_unanswered",
        )
    if not due and refuse:
        raise ConflictError("the sync was already requested from Meta", code="already_requested")
    return due
