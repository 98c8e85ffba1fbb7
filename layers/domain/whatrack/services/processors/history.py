"""``history``: chunks of past chats (§8.1-8.5) and media follow-ups (§8.8). Never a ticket (§8.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage
from whatrack.domain.connections import Connection, HistorySyncStatus
from whatrack.domain.history import DECLINED_CODE, ChunkStatus, ThreadImport
from whatrack.domain.inbox import LeadSource
from whatrack.domain.messages import Direction, MessageSource, direction_of
from whatrack.services.processors.base import InboxPorts, identity_from_contacts, new_message
from whatrack.services.processors.identity import resolve_lead
from whatrack.webhooks.payloads import ContactBlock, HistoryItem, HistoryValue, MessageItem, Thread

logger = Logger(child=True)


def record_chunk(
    ports: InboxPorts,
    message: ChangeMessage,
    item: HistoryItem,
    status: ChunkStatus,
    now: datetime,
    error: str | None = None,
) -> None:
    """The chunk's row in the gap view (only chunks with metadata have one)."""
    meta = item.metadata
    if meta is None:
        return
    ports.sync.record_chunk(
        message.connection_id,
        meta.phase,
        meta.chunk_order,
        meta.progress,
        threads=len(item.threads),
        messages=sum(len(t.messages) for t in item.threads),
        status=status,
        at=now,
        log_id=message.log_id,
        error=error,
    )


class HistoryProcessor:
    def __init__(self, ports: InboxPorts) -> None:
        self._ports = ports

    def __call__(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = HistoryValue.model_validate(value)
        connection = self._ports.connection(message)
        business = parsed.metadata.display_phone_number or connection.display_phone_number
        now = self._ports.clock()
        for item in parsed.history:
            self._history_item(message, connection, business, item, now)
        followups = [*parsed.messages, *parsed.message_echoes]
        if followups:
            self._media_followups(connection, business, parsed.contacts, followups, now, message.correlation_id)

    def _history_item(
        self, message: ChangeMessage, connection: Connection, business: str | None, item: HistoryItem, now: datetime
    ) -> None:
        ports = self._ports
        if item.errors:
            error = item.errors[0]
            declined = str(error.code) == DECLINED_CODE
            status = HistorySyncStatus.DECLINED if declined else HistorySyncStatus.FAILED
            if ports.sync.stop(connection.id, status, str(error.code), error.text, now):
                event = "sync_declined" if declined else "sync_failed"
                ports.audit.record(connection.id, event, now, key=f"{event}:{message.log_id}", error=error.text)
            return
        meta = item.metadata
        if meta is not None and ports.sync.chunk_arrived(
            connection.id, meta.phase, meta.chunk_order, meta.progress, now
        ):
            ports.audit.record(connection.id, "sync_started", now, key="sync_started")
        threads = [
            t
            for t in (
                self._thread(connection, business, thread, now, message.correlation_id) for thread in item.threads
            )
            if t
        ]
        imported = ports.messages.import_history(connection.organization_id, connection.id, threads)
        ports.metrics.count("MessagesImported", imported.new_messages)
        ports.metrics.count("ThreadsImported", imported.new_threads)
        if meta is not None:
            record_chunk(ports, message, item, ChunkStatus.PROCESSED, now)
            if meta.progress >= 100 and ports.sync.complete(connection.id, now):
                ports.audit.record(connection.id, "sync_completed", now, key="sync_completed")
                completed = ports.connections.get(connection.id)
                duration = completed.history.duration_seconds if completed else None
                if duration is not None:
                    ports.metrics.seconds("HistorySyncSeconds", duration)

    def _thread(
        self, connection: Connection, business: str | None, thread: Thread, now: datetime, correlation_id: str | None
    ) -> ThreadImport | None:
        identity = thread.counterpart(business)
        if not identity.known or not thread.messages:
            if thread.messages:
                logger.warning("history thread without a counterpart skipped", extra={"messages": len(thread.messages)})
            return None
        messages = sorted(
            (new_message(m, business, MessageSource.HISTORY, correlation_id=correlation_id) for m in thread.messages),
            key=lambda m: m.timestamp,
        )
        last = messages[-1].timestamp
        ports = self._ports
        resolved = resolve_lead(
            ports, connection.organization_id, identity, LeadSource.HISTORY_SYNC, now, correlation_id=correlation_id
        )
        ports.leads.update(resolved.lead.id, has_history=True, message_at=last)
        conversation_id = ports.conversations.ensure(
            connection.organization_id, resolved.lead.id, connection.id, now, last
        )
        return ThreadImport(conversation_id=conversation_id, lead_id=resolved.lead.id, messages=messages)

    def _media_followups(
        self,
        connection: Connection,
        business: str | None,
        contacts: list[ContactBlock],
        items: list[MessageItem],
        now: datetime,
        correlation_id: str | None,
    ) -> None:
        """§8.8: fill the placeholder with the same wamid; if it has not arrived yet, import the message."""
        ports = self._ports
        for item in items:
            media = item.media
            if media is not None and ports.messages.fill_media(connection.id, item.id, item.type, media, item.body):
                continue
            direction = direction_of(item.from_, business)
            wa_id, user_id = (
                (item.to, item.to_user_id) if direction is Direction.OUTBOUND else (item.from_, item.from_user_id)
            )
            identity = identity_from_contacts(contacts, wa_id, user_id)
            if not identity.known:
                logger.warning("media follow-up without a counterpart skipped", extra={"wamid": item.id})
                continue
            new = new_message(item, business, MessageSource.HISTORY, direction=direction, correlation_id=correlation_id)
            resolved = resolve_lead(
                ports, connection.organization_id, identity, LeadSource.HISTORY_SYNC, now, correlation_id=correlation_id
            )
            ports.leads.update(resolved.lead.id, has_history=True, message_at=new.timestamp)
            conversation_id = ports.conversations.ensure(
                connection.organization_id, resolved.lead.id, connection.id, now, new.timestamp
            )
            if ports.messages.insert(connection.organization_id, connection.id, conversation_id, new, history=True):
                ports.metrics.count("MessagesImported")
