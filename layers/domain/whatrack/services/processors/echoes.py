"""``smb_message_echoes``: what the business types in the App becomes OUTBOUND ``app_echo`` (§8.7)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage
from whatrack.domain.clock import from_unix
from whatrack.domain.connections import Connection
from whatrack.domain.inbox import LeadSource
from whatrack.domain.messages import REVOKED_TYPE, Direction, MessageSource, NewMessage
from whatrack.services.processors.base import InboxPorts, identity_from_contacts, new_message
from whatrack.services.processors.identity import resolve_lead
from whatrack.webhooks.payloads import EchoesValue, MessageItem

logger = Logger(child=True)


class EchoesProcessor:
    def __init__(self, ports: InboxPorts) -> None:
        self._ports = ports

    def __call__(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = EchoesValue.model_validate(value)
        ports = self._ports
        connection = ports.connection(message)
        business = parsed.metadata.display_phone_number or connection.display_phone_number
        now = ports.clock()
        for item in parsed.message_echoes:
            identity = identity_from_contacts(parsed.contacts, item.to, item.to_user_id)
            if not identity.known:
                logger.warning("echo without a recipient skipped", extra={"wamid": item.id})
                continue
            resolved = resolve_lead(
                ports,
                connection.organization_id,
                identity,
                LeadSource.DIRECT_CREATION,
                now,
                correlation_id=message.correlation_id,
            )
            at = from_unix(item.timestamp)
            conversation_id = ports.conversations.ensure(
                connection.organization_id, resolved.lead.id, connection.id, now, at
            )
            if item.type == "revoke":
                self._revoke(connection, conversation_id, item, message.correlation_id)
                continue
            ports.leads.update(resolved.lead.id, message_at=at)
            new = new_message(
                item,
                business,
                MessageSource.APP_ECHO,
                direction=Direction.OUTBOUND,
                status="sent",
                meta_confirmed_at=now,
                correlation_id=message.correlation_id,
            )
            if not ports.messages.insert(connection.organization_id, connection.id, conversation_id, new):
                ports.messages.restore_revoked(connection.id, new)
                ports.messages.confirm_echo(connection.id, item.id, now)

    def _revoke(
        self, connection: Connection, conversation_id: str, item: MessageItem, correlation_id: str | None
    ) -> None:
        messages = self._ports.messages
        original = (item.content() or {}).get("original_message_id")
        if not isinstance(original, str) or not original:
            logger.warning("revoke without original_message_id", extra={"wamid": item.id})
            return
        if messages.mark_deleted(connection.id, original):
            return
        # the original has not arrived yet: keep a deleted tombstone so it can never appear later
        tombstone = NewMessage(
            wamid=original,
            direction=Direction.OUTBOUND,
            source=MessageSource.APP_ECHO,
            type=REVOKED_TYPE,
            timestamp=from_unix(item.timestamp),
            deleted=True,
            correlation_id=correlation_id,
        )
        if not messages.insert(connection.organization_id, connection.id, conversation_id, tombstone):
            messages.mark_deleted(connection.id, original)
