"""``type: "revoke"`` (the App's on echoes, the customer's on ``messages``): a message deleted for everyone."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.clock import from_unix
from whatrack.domain.messages import REVOKED_TYPE, NewMessage
from whatrack.services.processors.identity import resolve_lead
from whatrack.webhooks.skipping import note_skipped

if TYPE_CHECKING:
    from whatrack.domain.connections import Connection
    from whatrack.domain.identity import ContactIdentity
    from whatrack.domain.inbox import LeadSource
    from whatrack.domain.messages import Direction, MessageSource
    from whatrack.services.processors.base import InboxPorts
    from whatrack.webhooks.payloads import MessageItem

logger = Logger(child=True)


def revoke(
    ports: InboxPorts,
    connection: Connection,
    item: MessageItem,
    counterpart: ContactIdentity,
    *,
    lead_source: LeadSource,
    direction: Direction,
    source: MessageSource,
    now: datetime,
    correlation_id: str | None,
) -> None:
    """The referenced message is marked deleted (one update). If it has not arrived yet, a deleted
    tombstone in the counterpart's conversation (resolved only then) keeps it from ever appearing;
    it takes its content when it comes (``restore_revoked``, or the history import's fill)."""
    messages = ports.messages
    original = (item.content() or {}).get("original_message_id")
    if not isinstance(original, str) or not original:
        logger.warning("revoke without original_message_id", extra={"wamid": item.id})
        note_skipped(f"revoke {item.id[:64]}: names no message")
        return
    if messages.mark_deleted(connection.id, original):
        return
    lead = resolve_lead(ports, connection.organization_id, counterpart, lead_source, now, correlation_id=correlation_id)
    # a delete is no message: the conversation's last message time is the original's, when it comes
    # (so it is the same whether the original or its delete arrived first)
    conversation_id = ports.conversations.ensure(connection.organization_id, lead.lead.id, connection.id, now, None)
    tombstone = NewMessage(
        wamid=original,
        direction=direction,
        source=source,
        type=REVOKED_TYPE,
        timestamp=from_unix(item.timestamp),
        deleted=True,
        correlation_id=correlation_id,
    )
    if not messages.insert(connection.organization_id, connection.id, conversation_id, tombstone):
        messages.mark_deleted(connection.id, original)
