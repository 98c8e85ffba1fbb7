"""``history``: chunks of past chats (§8.1-8.5) and media follow-ups (§8.8). Never a ticket (§8.2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from whatrack.domain.connections import HistorySyncStatus
from whatrack.domain.history import DECLINED_CODE, ChunkStatus, ThreadCounterpart, ThreadImport, content_hash
from whatrack.domain.inbox import LeadSource, conversation_id_for
from whatrack.domain.media import media_job_of
from whatrack.domain.messages import ANNOTATION_TYPES, Direction, MessageSource, direction_of
from whatrack.services.processors.annotations import annotations_of
from whatrack.services.processors.base import identity_from_contacts, media_with_state, new_message, queue_media
from whatrack.services.processors.identity import resolve_lead
from whatrack.webhooks.payloads import HistoryValue

if TYPE_CHECKING:
    from whatrack.domain.changes import ChangeMessage
    from whatrack.domain.connections import Connection
    from whatrack.domain.identity import ContactIdentity
    from whatrack.domain.messages import NewMessage
    from whatrack.services.processors.base import InboxPorts
    from whatrack.webhooks.payloads import ContactBlock, HistoryItem, MessageItem, Thread

logger = Logger(child=True)


def record_chunk(
    ports: InboxPorts,
    message: ChangeMessage,
    item: HistoryItem,
    status: ChunkStatus,
    now: datetime,
    error: str | None = None,
    digest: str | None = None,
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
        messages=sum(1 for t in item.threads for m in t.messages if m.type not in ANNOTATION_TYPES),
        status=status,
        at=now,
        log_id=message.log_id,
        error=error,
        content_hash=digest,
    )


class HistoryProcessor:
    def __init__(self, ports: InboxPorts) -> None:
        self._ports = ports

    def __call__(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = HistoryValue.model_validate(value)
        connection = self._ports.connection(message)
        business = parsed.metadata.display_phone_number or connection.display_phone_number
        now = self._ports.clock()
        digest = content_hash(value) if parsed.history else None
        for item in parsed.history:
            self._history_item(message, connection, business, item, now, digest)
        followups = [*parsed.messages, *parsed.message_echoes]
        if followups:
            self._media_followups(connection, business, parsed.contacts, followups, now, message)

    def _history_item(
        self,
        message: ChangeMessage,
        connection: Connection,
        business: str | None,
        item: HistoryItem,
        now: datetime,
        digest: str | None,
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
        if (
            meta is not None
            and digest
            and ports.sync.chunk_imported(connection.id, meta.phase, meta.chunk_order, digest)
        ):
            logger.info("chunk already imported", extra={"phase": meta.phase, "chunk_order": meta.chunk_order})
            return  # a redelivery of a completed import: nothing left to do
        if meta is not None and ports.sync.chunk_arrived(
            connection.id, meta.phase, meta.chunk_order, meta.progress, now
        ):
            ports.audit.record(connection.id, "sync_started", now, key="sync_started")
        threads = self._threads(connection, business, item.threads, now, message)
        imported = ports.messages.import_history(connection.organization_id, connection.id, threads)
        # a chunk's own media (most are placeholders): queued again on a redelivery, downloaded once
        queue_media(ports, connection, (m for thread in threads for m in thread.messages), message.received_at)
        annotations = annotations_of(
            (m for thread in item.threads for m in thread.messages), lambda m: direction_of(m.from_, business)
        )
        if annotations:  # after their targets (most are in the chunk): an update each, no stub to complete
            ports.messages.annotate(connection.id, annotations)
        ports.metrics.count("MessagesImported", imported.new_messages)
        ports.metrics.count("ThreadsImported", imported.new_threads)
        if meta is not None:
            if meta.progress >= 100 and ports.sync.complete(connection.id, now):
                ports.audit.record(connection.id, "sync_completed", now, key="sync_completed")
                completed = ports.connections.get(connection.id)
                duration = completed.history.duration_seconds if completed else None
                if duration is not None:
                    ports.metrics.seconds("HistorySyncSeconds", duration)
            # last: the record (with the content's hash) says the whole import of this content is done
            record_chunk(ports, message, item, ChunkStatus.PROCESSED, now, digest=digest)

    def _threads(
        self,
        connection: Connection,
        business: str | None,
        threads: list[Thread],
        now: datetime,
        change: ChangeMessage,
    ) -> list[ThreadImport]:
        """Every thread's conversation, its counterparts resolved together (a few requests per chunk);
        one that reaches two leads or a lead in a merge cut short goes the one-by-one way (§8.10)."""
        correlation_id = change.correlation_id
        found: list[tuple[ContactIdentity, list[NewMessage]]] = []
        for thread in threads:
            identity = thread.counterpart(business)
            said = [m for m in thread.messages if m.type not in ANNOTATION_TYPES]  # reactions, edits: after
            if not identity.known or not said:
                if said:
                    logger.warning(
                        "history thread without a counterpart skipped", extra={"messages": len(thread.messages)}
                    )
                continue
            messages = sorted(
                (
                    new_message(
                        m,
                        business,
                        MessageSource.HISTORY,
                        connection_created_at=connection.created_at,
                        received_at=change.received_at,
                        correlation_id=change.correlation_id,
                    )
                    for m in said
                ),
                key=lambda m: m.timestamp,
            )
            found.append((identity, messages))
        if not found:
            return []
        ports = self._ports
        organization_id = connection.organization_id
        counterparts = [ThreadCounterpart(identity, messages[-1].timestamp) for identity, messages in found]
        resolved = ports.threads.resolve_threads(
            organization_id, connection.id, counterparts, now, correlation_id=correlation_id
        )
        out: list[ThreadImport] = []
        for index, ((identity, messages), batched) in enumerate(zip(found, resolved.lead_ids, strict=True)):
            lead_id = batched
            if lead_id is None:  # §8.10, rare: merge first, then as before
                last = messages[-1].timestamp
                lead = resolve_lead(
                    ports, organization_id, identity, LeadSource.HISTORY_SYNC, now, correlation_id=correlation_id
                ).lead
                ports.leads.update(lead.id, has_history=True, message_at=last)
                ports.conversations.ensure(organization_id, lead.id, connection.id, now, last)
                lead_id = lead.id
            conversation_id = conversation_id_for(lead_id, connection.id)
            counted = batched is not None and resolved.already_counted(index)
            opens_at = now if batched is not None and resolved.opens_conversation(index) else None
            out.append(ThreadImport(conversation_id, lead_id, messages, counted=counted, opens_at=opens_at))
        return out

    def _media_followups(
        self,
        connection: Connection,
        business: str | None,
        contacts: list[ContactBlock],
        items: list[MessageItem],
        now: datetime,
        change: ChangeMessage,
    ) -> None:
        """§8.8: fill the placeholder with the same wamid; if it has not arrived yet, import the message."""
        ports = self._ports
        correlation_id = change.correlation_id
        annotations = annotations_of(items, lambda m: direction_of(m.from_, business))
        if annotations:  # reactions and edits shaped like live traffic: on their messages, like any
            ports.messages.annotate(connection.id, annotations)
        for item in items:
            if item.type in ANNOTATION_TYPES:
                continue
            media = media_with_state(item, connection.created_at, change.received_at)
            job = media_job_of(connection.id, connection.organization_id, item.id, media or {}, change.received_at)
            if media is not None and ports.messages.fill_media(connection.id, item.id, item.type, media, item.body):
                if job is not None:
                    ports.media_jobs.enqueue([job])
                continue
            direction = direction_of(item.from_, business)
            wa_id, user_id = (
                (item.to, item.to_user_id) if direction is Direction.OUTBOUND else (item.from_, item.from_user_id)
            )
            identity = identity_from_contacts(contacts, wa_id, user_id)
            if not identity.known:
                logger.warning("media follow-up without a counterpart skipped", extra={"wamid": item.id})
                continue
            new = new_message(
                item,
                business,
                MessageSource.HISTORY,
                connection_created_at=connection.created_at,
                received_at=change.received_at,
                direction=direction,
                correlation_id=correlation_id,
            )
            new = replace(new, filled_placeholder=True)  # it overtook its placeholder: counted as one, filled
            resolved = resolve_lead(
                ports, connection.organization_id, identity, LeadSource.HISTORY_SYNC, now, correlation_id=correlation_id
            )
            ports.leads.update(resolved.lead.id, has_history=True, message_at=new.timestamp)
            conversation_id = ports.conversations.ensure(
                connection.organization_id, resolved.lead.id, connection.id, now, new.timestamp
            )
            if ports.messages.insert(connection.organization_id, connection.id, conversation_id, new, history=True):
                ports.metrics.count("MessagesImported")
            # on every delivery: a follow-up filled or stored by a delivery that died before its job
            # went out gets it now (the media function downloads each file once)
            queue_media(ports, connection, [new], change.received_at)
