"""Asking Meta whether a connected number is still on the Business App (the card's refresh, the
watchdog's daily check): only a definite answer changes the card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from whatrack.domain.clock import utcnow
from whatrack.domain.connections import ConnectionStatus
from whatrack.domain.errors import RuleViolationError, UpstreamError
from whatrack.domain.onboarding import TOKEN_INVALID_CODE

if TYPE_CHECKING:
    from whatrack.domain.connections import Connection
    from whatrack.ports import AuditLog, ConnectionRepository, GraphApi, TokenVault


class NumberChecker:
    def __init__(
        self,
        repository: ConnectionRepository,
        vault: TokenVault,
        graph: GraphApi,
        audit: AuditLog,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._repository = repository
        self._vault = vault
        self._graph = graph
        self._audit = audit
        self._clock = clock

    def check_number(self, connection: Connection) -> ConnectionStatus:
        """``GET /{phone-number-id}?fields=is_on_biz_app,platform_type`` applied by a definite answer.

        Coexistence active → ``active``; a definite other answer, or Meta saying the token was
        revoked → ``disconnected``; anything uncertain raises :class:`UpstreamError` and changes nothing.
        """
        if connection.access_token_secret_id is None:
            raise RuleViolationError("this connection has no access token to ask Meta with", code="no_access_token")
        token = self._vault.read(connection.access_token_secret_id)
        now = self._clock()
        try:
            active = self._graph.number_state(connection.phone_number_id, token).coexistence_active()
            reason = "is_on_biz_app/platform_type"
        except UpstreamError as exc:
            if not (exc.definite and exc.meta_code == TOKEN_INVALID_CODE):
                raise
            active, reason = False, f"token revoked: {exc.meta_error}"
        if active is None:
            raise UpstreamError("Meta's answer did not say whether the number is still on the Business App")
        status = ConnectionStatus.ACTIVE if active else ConnectionStatus.DISCONNECTED
        applied = self._repository.set_status(connection.id, status, now)
        self._repository.mark_checked(connection.id, now)
        if applied and status is not connection.connection_status:
            self._audit.record(
                connection.id, f"connection_{status.value}", now, key=f"checked:{now.isoformat()}", error=reason
            )
        return status
