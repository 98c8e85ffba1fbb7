"""What every processor shares: the ports it writes through, and the mapping of Meta's messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from whatrack.domain.annotations import Annotation, Edit, Reaction
from whatrack.domain.changes import ChangeMessage
from whatrack.domain.clock import from_unix, utcnow
from whatrack.domain.connections import Connection
from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.messages import (
    ANNOTATION_TYPES,
    EDIT_TYPE,
    MODELLED_TYPES,
    REACTION_TYPE,
    REVOKED_TYPE,
    Direction,
    MessageSource,
    NewMessage,
    direction_of,
    status_from_history,
)
from whatrack.domain.summaries import readable_body
from whatrack.ports import (
    AuditLog,
    ConnectionRepository,
    ContactSyncStore,
    ConversationRepository,
    HistorySyncStore,
    HistoryThreadStore,
    LeadRepository,
    MessageRepository,
    MetricsRecorder,
    NoMetrics,
    TicketRepository,
)
from whatrack.webhooks.payloads import ContactBlock, MessageItem
from whatrack.webhooks.skipping import note_skipped

logger = Logger(child=True)

ChangeProcessor = Callable[[ChangeMessage, dict[str, Any]], None]
"""Applies one routed change (its ``value``); raises ``ValidationError`` for a change it can never apply."""
DeadLetterHook = Callable[[ChangeMessage, dict[str, Any] | None, str], None]
"""Reacts to a change of its field that kept failing (the value, when it could still be read, and why)."""


@dataclass(frozen=True)
class InboxPorts:
    """The storage ports the processors write through."""

    connections: ConnectionRepository
    sync: HistorySyncStore
    leads: LeadRepository
    conversations: ConversationRepository
    messages: MessageRepository
    tickets: TicketRepository
    audit: AuditLog
    contacts: ContactSyncStore
    threads: HistoryThreadStore
    clock: Callable[[], datetime] = utcnow
    metrics: MetricsRecorder = field(default_factory=NoMetrics)

    def connection(self, message: ChangeMessage) -> Connection:
        """The change's connection (routed to it, so it exists: a miss is a read lagging behind)."""
        connection = self.connections.get(message.connection_id)
        if connection is None:
            raise TransientError(f"connection {message.connection_id} not found")
        return connection


def identity_from_contacts(contacts: list[ContactBlock], wa_id: str | None, user_id: str | None) -> ContactIdentity:
    """Match the ``contacts[]`` block of a counterpart (by wa_id or user id) for its name and ids."""
    for contact in contacts:
        if (wa_id and contact.wa_id == wa_id) or (user_id and contact.user_id == user_id) or len(contacts) == 1:
            name = contact.profile.name if contact.profile else None
            return ContactIdentity.of(wa_id=wa_id or contact.wa_id, user_id=user_id or contact.user_id, name=name)
    return ContactIdentity.of(wa_id=wa_id, user_id=user_id)


def new_message(
    item: MessageItem, business: str | None, source: MessageSource, *, direction: Direction | None = None, **extra: Any
) -> NewMessage:
    """Meta's message → the message we insert (``extra`` overrides status, confirmation...)."""
    history_status = item.history_context.status if item.history_context else None
    return NewMessage(
        wamid=item.id,
        direction=direction or direction_of(item.from_, business),
        source=source,
        type=item.type,
        timestamp=from_unix(item.timestamp),
        body=item.body or readable_body(item.type, item.raw(), item.errors_text),
        status=extra.pop("status", status_from_history(history_status)),
        history_status=history_status.upper() if history_status else None,
        media=item.media,
        content=None if item.type in MODELLED_TYPES else item.raw_content(),
        error=item.errors_text,
        reply_to_id=item.reply_to_id,
        forwarded=item.forwarded,
        **extra,
    )


class _Unreadable(ValueError):
    """An edit whose new content cannot be read: dropped (and noted), never shown as a blank."""


def _text_of(content: Any) -> str | None:
    """The text of an edit's new content: the body of a text, the caption of anything else (which
    may be gone: a caption removed)."""
    kind = content.get("type") if isinstance(content, dict) else None
    inner = content.get(kind) if isinstance(kind, str) else None
    if not isinstance(inner, dict):
        raise _Unreadable
    value = inner.get("body") if kind == "text" else inner.get("caption")
    if isinstance(value, str):
        return value
    if kind == "text" or value is not None:
        raise _Unreadable
    return None


def annotation_of(item: MessageItem, direction: Direction) -> Annotation | None:
    """A reaction or an edit sent by ``direction``'s side, or ``None`` when ``item`` is neither, names
    no target or carries no readable new text (it is then dropped and noted, never a message)."""
    content = item.content() or {}
    at = from_unix(item.timestamp)
    if item.type == REACTION_TYPE:
        target, emoji = content.get("message_id"), content.get("emoji")
        if isinstance(target, str) and target:
            return Reaction(target, item.id, direction, emoji if isinstance(emoji, str) else "", at)
    elif item.type == EDIT_TYPE:
        target = content.get("original_message_id")
        if isinstance(target, str) and target:
            try:
                return Edit(target, item.id, _text_of(content.get("message")), at)
            except _Unreadable:
                return None
    return None


def annotations_of(items: Iterable[MessageItem], direction: Callable[[MessageItem], Direction]) -> list[Annotation]:
    """The reactions and edits among ``items`` (never messages, never tickets); one naming no
    message, or with no readable new text, is logged and noted in its change's log entry."""
    found: list[Annotation] = []
    for item in items:
        if item.type not in ANNOTATION_TYPES:
            continue
        annotation = annotation_of(item, direction(item))
        if annotation is None:
            logger.warning("unreadable reaction or edit skipped", extra={"wamid": item.id, "type": item.type})
            note_skipped(f"{item.type} {item.id[:64]}: names no message or no readable content")
        else:
            found.append(annotation)
    return found


def annotate(ports: InboxPorts, connection_id: str, item: MessageItem, direction: Direction) -> None:
    """One reaction or edit on its target."""
    found = annotations_of([item], lambda _: direction)
    if found:
        ports.messages.annotate(connection_id, found)


def revoke(
    ports: InboxPorts,
    connection: Connection,
    item: MessageItem,
    conversation_id: str,
    *,
    direction: Direction,
    source: MessageSource,
    correlation_id: str | None,
) -> None:
    """``type: "revoke"``: the referenced message is marked deleted; if it has not arrived yet, a
    deleted tombstone (in ``conversation_id``) keeps it from ever appearing (it takes its content
    when it comes: ``restore_revoked``)."""
    messages = ports.messages
    original = (item.content() or {}).get("original_message_id")
    if not isinstance(original, str) or not original:
        logger.warning("revoke without original_message_id", extra={"wamid": item.id})
        note_skipped(f"revoke {item.id[:64]}: names no message")
        return
    if messages.mark_deleted(connection.id, original):
        return
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
