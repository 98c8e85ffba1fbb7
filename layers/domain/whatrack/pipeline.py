"""Per-field processors of routed changes: the import rules of CONTRACT §8.

Each processor receives one change for one connection. It validates the change with the
tolerant models of :mod:`whatrack.payloads` (a ``ValidationError`` marks the change
``rejected``, never retried) and applies it through the storage ports; every write is
conditional, so a redelivered or reordered change ends in the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from whatrack.connections import Connection, ConnectionStatus, HistorySyncStatus
from whatrack.errors import TransientError
from whatrack.identity import ContactIdentity
from whatrack.inbox import (
    REVOKED_TYPE,
    TICKET_WINDOW,
    Direction,
    LeadSource,
    MessageSource,
    NewMessage,
    ThreadImport,
    direction_of,
    initial_window,
    status_from_history,
    ticket_origin,
)
from whatrack.payloads import (
    AccountUpdateValue,
    ContactBlock,
    EchoesValue,
    HistoryItem,
    HistoryValue,
    MessageItem,
    MessagesValue,
    StateSyncValue,
    Thread,
)
from whatrack.timeutil import from_unix, utcnow
from whatrack.webhooks.fields import WebhookField

if TYPE_CHECKING:
    from whatrack.ports import ConnectionRepository, HistorySyncStore, InboxStore
    from whatrack.queue_messages import ChangeMessage

logger = Logger(child=True)

DECLINED_CODE = "2593109"
DISCONNECTING_EVENTS = frozenset({"PARTNER_REMOVED", "PARTNER_APP_UNINSTALLED", "ACCOUNT_OFFBOARDED"})
RECONNECTING_EVENTS = frozenset({"ACCOUNT_RECONNECTED"})
MODELLED_TYPES = frozenset({"text", "media_placeholder", "image", "video", "audio", "document", "sticker"})


def _identity_from_contacts(contacts: list[ContactBlock], wa_id: str | None, user_id: str | None) -> ContactIdentity:
    """Match the ``contacts[]`` block of a counterpart (by wa_id or user id) for its name and ids."""
    for contact in contacts:
        if (wa_id and contact.wa_id == wa_id) or (user_id and contact.user_id == user_id) or len(contacts) == 1:
            name = contact.profile.name if contact.profile else None
            return ContactIdentity.of(wa_id=wa_id or contact.wa_id, user_id=user_id or contact.user_id, name=name)
    return ContactIdentity.of(wa_id=wa_id, user_id=user_id)


def _new_message(
    item: MessageItem, business: str | None, source: MessageSource, *, direction: Direction | None = None, **extra: Any
) -> NewMessage:
    history_status = item.history_context.status if item.history_context else None
    return NewMessage(
        wamid=item.id,
        direction=direction or direction_of(item.from_, business),
        source=source,
        type=item.type,
        timestamp=from_unix(item.timestamp),
        body=item.body,
        status=extra.pop("status", status_from_history(history_status)),
        history_status=history_status.upper() if history_status else None,
        media=item.media,
        content=None if item.type in MODELLED_TYPES else item.raw_content(),
        error="; ".join(e.text for e in item.errors) or None,
        **extra,
    )


class ChangePipeline:
    def __init__(
        self,
        *,
        inbox: InboxStore,
        sync: HistorySyncStore,
        connections: ConnectionRepository,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._inbox = inbox
        self._sync = sync
        self._connections = connections
        self._clock = clock

    def processors(self) -> dict[WebhookField, Callable[[ChangeMessage, dict[str, Any]], None]]:
        return {
            WebhookField.HISTORY: self.history,
            WebhookField.STATE_SYNC: self.state_sync,
            WebhookField.ECHOES: self.echoes,
            WebhookField.MESSAGES: self.messages,
            WebhookField.ACCOUNT_UPDATE: self.account_update,
        }

    def _connection(self, message: ChangeMessage) -> Connection:
        connection = self._connections.get(message.connection_id)
        if connection is None:
            raise TransientError(f"connection {message.connection_id} not found")
        return connection

    # ------------------------------------------------------------------ history
    def history(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = HistoryValue.model_validate(value)
        connection = self._connection(message)
        business = parsed.metadata.display_phone_number or connection.display_phone_number
        now = self._clock()
        for item in parsed.history:
            self._history_item(message, connection, business, item, now)
        followups = [*parsed.messages, *parsed.message_echoes]
        if followups:
            self._media_followups(connection, business, parsed.contacts, followups, now)

    def _history_item(
        self, message: ChangeMessage, connection: Connection, business: str | None, item: HistoryItem, now: datetime
    ) -> None:
        if item.errors:
            error = item.errors[0]
            declined = str(error.code) == DECLINED_CODE
            status = HistorySyncStatus.DECLINED if declined else HistorySyncStatus.FAILED
            if self._sync.stop(connection.id, status, str(error.code), error.text, now):
                event = "sync_declined" if declined else "sync_failed"
                self._inbox.audit(connection.id, event, now, key=f"{event}:{message.log_id}", error=error.text)
            return
        meta = item.metadata
        if meta is not None and self._sync.chunk_arrived(
            connection.id, meta.phase, meta.chunk_order, meta.progress, now
        ):
            self._inbox.audit(connection.id, "sync_started", now, key="sync_started")
        threads = [t for t in (self._thread(connection, business, thread, now) for thread in item.threads) if t]
        self._inbox.import_history(connection.organization_id, connection.id, threads)
        if meta is not None:
            self._record_chunk(message, item, "processed", now)
            if meta.progress >= 100 and self._sync.complete(connection.id, now):
                self._inbox.audit(connection.id, "sync_completed", now, key="sync_completed")

    def _record_chunk(
        self, message: ChangeMessage, item: HistoryItem, status: str, now: datetime, error: str | None = None
    ) -> None:
        meta = item.metadata
        if meta is None:
            return
        self._sync.record_chunk(
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

    def _thread(
        self, connection: Connection, business: str | None, thread: Thread, now: datetime
    ) -> ThreadImport | None:
        identity = thread.counterpart(business)
        if not identity.known or not thread.messages:
            if thread.messages:
                logger.warning("history thread without a counterpart skipped", extra={"messages": len(thread.messages)})
            return None
        messages = sorted(
            (_new_message(m, business, MessageSource.HISTORY) for m in thread.messages), key=lambda m: m.timestamp
        )
        last = messages[-1].timestamp
        resolved = self._inbox.resolve_lead(connection.organization_id, identity, LeadSource.HISTORY_SYNC, now)
        self._inbox.update_lead(resolved.lead.id, has_history=True, message_at=last)
        conversation_id = self._inbox.ensure_conversation(
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
    ) -> None:
        """§8.8: fill the placeholder with the same wamid; if it has not arrived yet, import the message."""
        for item in items:
            media = item.media
            if media is not None and self._inbox.fill_media(connection.id, item.id, item.type, media, item.body):
                continue
            direction = direction_of(item.from_, business)
            wa_id, user_id = (
                (item.to, item.to_user_id) if direction is Direction.OUTBOUND else (item.from_, item.from_user_id)
            )
            identity = _identity_from_contacts(contacts, wa_id, user_id)
            if not identity.known:
                logger.warning("media follow-up without a counterpart skipped", extra={"wamid": item.id})
                continue
            new = _new_message(item, business, MessageSource.HISTORY, direction=direction)
            resolved = self._inbox.resolve_lead(connection.organization_id, identity, LeadSource.HISTORY_SYNC, now)
            self._inbox.update_lead(resolved.lead.id, has_history=True, message_at=new.timestamp)
            conversation_id = self._inbox.ensure_conversation(
                connection.organization_id, resolved.lead.id, connection.id, now, new.timestamp
            )
            self._inbox.insert_message(connection.organization_id, connection.id, conversation_id, new, history=True)

    # ------------------------------------------------------------------ contacts
    def state_sync(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = StateSyncValue.model_validate(value)
        connection = self._connection(message)
        now = self._clock()
        for item in parsed.state_sync:
            contact = item.contact
            identity = ContactIdentity.of(
                wa_id=contact.phone_number, user_id=contact.user_id, name=contact.full_name or contact.first_name
            )
            if item.type != "contact" or not identity.known:
                logger.warning("state_sync item skipped", extra={"type": item.type, "action": item.action})
                continue
            if item.action == "add":
                resolved = self._inbox.resolve_lead(connection.organization_id, identity, LeadSource.STATE_SYNC, now)
                self._inbox.update_lead(
                    resolved.lead.id, push_name=identity.name, overwrite_name=True, synced_at=now, active=True
                )
                self._inbox.count_contact(connection.id, resolved.lead.id)
            elif item.action == "remove":
                lead = self._inbox.find_lead(connection.organization_id, identity)
                if lead is not None:
                    self._inbox.update_lead(lead.id, synced_at=now, active=False)
            else:
                logger.warning("unknown state_sync action", extra={"action": item.action})

    # ------------------------------------------------------------------ echoes
    def echoes(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = EchoesValue.model_validate(value)
        connection = self._connection(message)
        business = parsed.metadata.display_phone_number or connection.display_phone_number
        now = self._clock()
        for item in parsed.message_echoes:
            identity = _identity_from_contacts(parsed.contacts, item.to, item.to_user_id)
            if not identity.known:
                logger.warning("echo without a recipient skipped", extra={"wamid": item.id})
                continue
            resolved = self._inbox.resolve_lead(connection.organization_id, identity, LeadSource.DIRECT_CREATION, now)
            at = from_unix(item.timestamp)
            conversation_id = self._inbox.ensure_conversation(
                connection.organization_id, resolved.lead.id, connection.id, now, at
            )
            if item.type == "revoke":
                self._revoke(connection, conversation_id, item, business)
                continue
            self._inbox.update_lead(resolved.lead.id, message_at=at)
            new = _new_message(
                item,
                business,
                MessageSource.APP_ECHO,
                direction=Direction.OUTBOUND,
                status="sent",
                meta_confirmed_at=now,
            )
            if not self._inbox.insert_message(connection.organization_id, connection.id, conversation_id, new):
                self._inbox.restore_revoked(connection.id, new)
                self._inbox.confirm_echo(connection.id, item.id, now)

    def _revoke(self, connection: Connection, conversation_id: str, item: MessageItem, business: str | None) -> None:
        original = (item.content() or {}).get("original_message_id")
        if not isinstance(original, str) or not original:
            logger.warning("revoke without original_message_id", extra={"wamid": item.id})
            return
        if self._inbox.mark_deleted(connection.id, original):
            return
        # the original has not arrived yet: keep a deleted tombstone so it can never appear later
        tombstone = NewMessage(
            wamid=original,
            direction=Direction.OUTBOUND,
            source=MessageSource.APP_ECHO,
            type=REVOKED_TYPE,
            timestamp=from_unix(item.timestamp),
            deleted=True,
        )
        if not self._inbox.insert_message(connection.organization_id, connection.id, conversation_id, tombstone):
            self._inbox.mark_deleted(connection.id, original)

    # ------------------------------------------------------------------ live messages
    def messages(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = MessagesValue.model_validate(value)
        connection = self._connection(message)
        business = parsed.metadata.display_phone_number or connection.display_phone_number
        now = self._clock()
        for item in parsed.messages:
            self._live_message(connection, business, parsed.contacts, item, now)
        for status in parsed.statuses:
            status_error = "; ".join(e.text for e in status.errors) or None
            if not self._inbox.apply_status(connection.id, status.id, status.status.lower(), status_error):
                logger.info("status not applied (unknown message or not newer)", extra={"wamid": status.id})
        for error in parsed.errors:
            logger.warning("messages error", extra={"code": error.code, "error": error.text})
            self._inbox.audit(
                connection.id,
                "messages_error",
                now,
                key=f"error:{message.log_id}:{error.code}",
                error=f"{error.code}: {error.text}",
            )

    def _live_message(
        self,
        connection: Connection,
        business: str | None,
        contacts: list[ContactBlock],
        item: MessageItem,
        now: datetime,
    ) -> None:
        identity = _identity_from_contacts(contacts, item.from_, item.from_user_id)
        if not identity.known:
            logger.warning("live message without a sender skipped", extra={"wamid": item.id})
            return
        at = from_unix(item.timestamp)
        resolved = self._inbox.resolve_lead(connection.organization_id, identity, LeadSource.LIVE_MESSAGE, now)
        self._inbox.update_lead(resolved.lead.id, message_at=at, push_name=identity.name, overwrite_name=True)
        conversation_id = self._inbox.ensure_conversation(
            connection.organization_id, resolved.lead.id, connection.id, now, at
        )
        new = _new_message(item, business, MessageSource.LIVE, direction=Direction.INBOUND, status=None)
        self._inbox.insert_message(connection.organization_id, connection.id, conversation_id, new)
        # §8.3: the only path that opens tickets; idempotent per message and per conversation
        origin = ticket_origin(
            resolved.lead,
            lead_created_by_live_traffic=resolved.lead.source is LeadSource.LIVE_MESSAGE
            and resolved.tickets_opened == 0,
        )
        opened = self._inbox.open_ticket(
            lead=resolved,
            connection_id=connection.id,
            conversation_id=conversation_id,
            wamid=item.id,
            origin=origin,
            window=initial_window(origin, at),
            message_at=at,
        )
        if opened is None:
            open_id = self._inbox.open_ticket_id(conversation_id)
            if open_id is not None:
                self._inbox.touch_ticket(open_id, at, at + TICKET_WINDOW)

    # ------------------------------------------------------------------ account updates
    def account_update(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = AccountUpdateValue.model_validate(value)
        now = self._clock()
        connection_id = message.connection_id
        if parsed.event in DISCONNECTING_EVENTS:
            self._sync.set_connection_status(connection_id, ConnectionStatus.DISCONNECTED)
        elif parsed.event in RECONNECTING_EVENTS:
            self._sync.set_connection_status(connection_id, ConnectionStatus.ACTIVE)
        reason = (parsed.disconnection_info or {}).get("reason")
        self._inbox.audit(
            connection_id,
            f"account_update {parsed.event}",
            now,
            key=f"account:{message.log_id}",
            error=str(reason) if reason else None,
        )

    # ------------------------------------------------------------------ dead letters
    def history_dead_letter(self, message: ChangeMessage, value: dict[str, Any] | None, error: str) -> None:
        """A history change that kept failing: the chunk shows ``failed`` and so does the sync."""
        now = self._clock()
        item = None
        if value is not None:
            try:
                parsed = HistoryValue.model_validate(value)
                item = next((h for h in parsed.history if h.metadata is not None), None)
            except ValueError:
                item = None
        if item is not None:
            self._record_chunk(message, item, "failed", now, error)
        text = f"a history change kept failing ({error}); retry it from the archive"
        if self._sync.stop(message.connection_id, HistorySyncStatus.FAILED, "chunk_failed", text, now):
            self._inbox.audit(message.connection_id, "sync_failed", now, key=f"dlq:{message.log_id}", error=text)
