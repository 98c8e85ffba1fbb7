"""``account_update``: the number was disconnected from, or reconnected to, the partner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatrack.domain.connections import ConnectionStatus
from whatrack.webhooks.payloads import AccountUpdateValue

if TYPE_CHECKING:
    from whatrack.domain.changes import ChangeMessage
    from whatrack.services.processors.base import InboxPorts

DISCONNECTING_EVENTS = frozenset({"PARTNER_REMOVED", "PARTNER_APP_UNINSTALLED", "ACCOUNT_OFFBOARDED"})
RECONNECTING_EVENTS = frozenset({"ACCOUNT_RECONNECTED"})


class AccountUpdatesProcessor:
    def __init__(self, ports: InboxPorts) -> None:
        self._ports = ports

    def __call__(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = AccountUpdateValue.model_validate(value)
        ports = self._ports
        now = ports.clock()
        connection_id = message.connection_id
        # by the event's time, not arrival: a late PARTNER_REMOVED never undoes a later reconnection
        event_at = message.event_at or message.received_at
        if parsed.event in DISCONNECTING_EVENTS:
            ports.connections.set_status(connection_id, ConnectionStatus.DISCONNECTED, event_at)
        elif parsed.event in RECONNECTING_EVENTS:
            ports.connections.set_status(connection_id, ConnectionStatus.ACTIVE, event_at)
        reason = (parsed.disconnection_info or {}).get("reason")
        ports.audit.record(
            connection_id,
            f"account_update {parsed.event}",
            now,
            key=f"account:{message.log_id}",
            error=str(reason) if reason else None,
        )
