"""What every processor shares: the ports it writes through, and the mapping of Meta's messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from whatrack.domain.changes import ChangeMessage
from whatrack.domain.clock import from_unix, iso, utcnow
from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.media import TOO_LARGE_CODE, MediaState, initial_state, media_error, media_job_of
from whatrack.domain.messages import (
    MEDIA_PLACEHOLDER_TYPE,
    MODELLED_TYPES,
    NewMessage,
    direction_of,
    status_from_history,
)
from whatrack.domain.summaries import readable_body
from whatrack.ports import (
    NoMetrics,
)

if TYPE_CHECKING:
    from whatrack.domain.connections import Connection
    from whatrack.domain.messages import (
        Direction,
        MessageSource,
    )
    from whatrack.ports import (
        AuditLog,
        ConnectionRepository,
        ContactSyncStore,
        ConversationRepository,
        HistorySyncStore,
        HistoryThreadStore,
        LeadRepository,
        MediaJobQueue,
        MessageRepository,
        MetricsRecorder,
        TicketRepository,
    )
    from whatrack.ports.replies import ReplyStore
    from whatrack.webhooks.payloads import ContactBlock, MessageItem

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
    media_jobs: MediaJobQueue
    replies: ReplyStore
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
    item: MessageItem,
    business: str | None,
    source: MessageSource,
    *,
    connection_created_at: datetime,
    received_at: datetime,
    direction: Direction | None = None,
    **extra: Any,
) -> NewMessage:
    """Meta's message → the message we insert (``extra`` overrides status, confirmation...); its
    media with the state it starts in (§7 Media)."""
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
        media=media_with_state(item, connection_created_at, received_at),
        content=None if item.type in MODELLED_TYPES else item.raw_content(),
        error=item.errors_text,
        reply_to_id=item.reply_to_id,
        forwarded=item.forwarded,
        **extra,
    )


def media_with_state(
    item: MessageItem, connection_created_at: datetime, received_at: datetime
) -> dict[str, Any] | None:
    """``item.media`` with the state it is stored in (and why, for a file Meta refused), and when
    Meta announced it (its id lives 7 days from then: a retry's job needs it)."""
    media = item.media
    if media is None:
        return None
    state = initial_state(
        media,
        placeholder=item.type == MEDIA_PLACEHOLDER_TYPE,
        timestamp=from_unix(item.timestamp),
        connection_created_at=connection_created_at,
        error_codes=item.error_codes,
    )
    media = {**media, "state": state.value, "receivedAt": iso(received_at)}
    if state is MediaState.TOO_LARGE:
        media["error"] = media_error(str(TOO_LARGE_CODE), item.errors_text or "file larger than Meta's 100 MB")
    elif state is MediaState.UNAVAILABLE and item.type != MEDIA_PLACEHOLDER_TYPE:
        media["error"] = media_error("no_media_id", "Meta sent no media id for this file")
    return media


def queue_media(
    ports: InboxPorts, connection: Connection, messages: Iterable[NewMessage], received_at: datetime
) -> None:
    """One download job per message stored with its media ``pending`` (a job delivered twice, or for
    a file already kept, downloads nothing: the media function claims each file once)."""
    jobs = [
        job
        for message in messages
        if message.media is not None
        and (job := media_job_of(connection.id, connection.organization_id, message.wamid, message.media, received_at))
    ]
    if jobs:
        ports.media_jobs.enqueue(jobs)
