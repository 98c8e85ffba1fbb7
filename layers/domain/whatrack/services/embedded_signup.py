"""Meta's Embedded Signup: the browser's ``code`` becomes the business token, then the number connects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from whatrack.domain.connections import ConnectionRequest
from whatrack.domain.errors import RuleViolationError, UpstreamError
from whatrack.domain.onboarding import PhoneNumber

if TYPE_CHECKING:
    from whatrack.domain.connections import ConnectionMode
    from whatrack.ports import GraphApi
    from whatrack.services.connections import Connected, ConnectionService


@dataclass(frozen=True)
class SignupSession:
    """What the dashboard got from Meta's Embedded Signup (the session event names only the WABA)."""

    code: str
    waba_id: str
    mode: ConnectionMode
    sync_history: bool = False
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    display_name: str | None = None


class EmbeddedSignup:
    def __init__(self, graph: GraphApi, connections: ConnectionService) -> None:
        self._graph = graph
        self._connections = connections

    def connect(self, organization_id: str, session: SignupSession) -> Connected:
        """Exchange the code (``422 code_exchange_failed`` when Meta refuses it), find the number when
        the browser did not get its id, then connect exactly as ``POST /connections`` with the token."""
        try:
            token = self._graph.exchange_code(session.code)
        except UpstreamError as exc:
            if not exc.definite:
                raise
            raise RuleViolationError(
                f"Meta refused the Embedded Signup code: {exc.meta_error}", code="code_exchange_failed"
            ) from exc
        numbers = self._numbers(session.waba_id, token)
        number = self._number(session, numbers)
        request = ConnectionRequest(
            phone_number_id=number.id,
            waba_id=session.waba_id,
            mode=session.mode,
            sync_history=session.sync_history,
            display_phone_number=session.display_phone_number or number.display_phone_number,
            display_name=session.display_name or number.verified_name,
            access_token=token,
        )
        return self._connections.connect(organization_id, request, numbers=numbers)

    def _numbers(self, waba_id: str, token: str) -> list[PhoneNumber]:
        try:
            return self._graph.phone_numbers(waba_id, token)
        except UpstreamError as exc:
            if not exc.definite:
                raise
            raise RuleViolationError(
                f"Meta refused to list the numbers of WABA {waba_id} with the new token: {exc.meta_error}",
                code="number_not_owned",
            ) from exc

    @staticmethod
    def _number(session: SignupSession, numbers: list[PhoneNumber]) -> PhoneNumber:
        if session.phone_number_id is not None:
            return next(
                (n for n in numbers if n.id == session.phone_number_id), PhoneNumber(id=session.phone_number_id)
            )  # not listed: connect() refuses it as number_not_owned, with Meta's list
        if not numbers:
            raise RuleViolationError(f"WABA {session.waba_id} has no phone number", code="number_not_owned")
        if len(numbers) > 1:
            listed = ", ".join(f"{n.id} ({n.display_phone_number or 'no display number'})" for n in numbers)
            raise RuleViolationError(
                f"WABA {session.waba_id} has several numbers; send phoneNumberId, one of: {listed}",
                code="phone_number_ambiguous",
            )
        return numbers[0]
