"""``messages``: live traffic. The only path that opens tickets (§8.3); statuses only forward (§8.9)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from whatrack.domain.clock import from_unix
from whatrack.domain.errors import TransientError
from whatrack.domain.inbox import (
    TICKET_WINDOW,
    LeadSource,
    OpenOutcome,
    TicketSource,
    initial_window,
    service_window_end,
    ticket_origin,
)
from whatrack.domain.messages import ANNOTATION_TYPES, REVOKE_TYPE, Direction, MessageSource
from whatrack.domain.replies import is_reply_id
from whatrack.services.processors.annotations import annotations_of
from whatrack.services.processors.base import identity_from_contacts, new_message, queue_media
from whatrack.services.processors.identity import resolve_lead
from whatrack.services.processors.revokes import revoke
from whatrack.webhooks.payloads import MessagesValue

if TYPE_CHECKING:
    from whatrack.domain.changes import ChangeMessage
    from whatrack.domain.connections import Connection
    from whatrack.domain.identity import ContactIdentity
    from whatrack.services.processors.base import InboxPorts
    from whatrack.webhooks.payloads import ContactBlock, MessageItem

logger = Logger(child=True)
TICKET_OPEN_ATTEMPTS = 5
"""Opens of one message's ticket: each retry follows an agent closing the ticket the last one met."""


def _sender(contacts: list[ContactBlock], item: MessageItem) -> ContactIdentity | None:
    """Who sent a live message (its ``contacts[]`` block); ``None`` (logged) when nothing tells."""
    identity = identity_from_contacts(contacts, item.from_, item.from_user_id)
    if not identity.known:
        logger.warning("live message without a sender skipped", extra={"wamid": item.id, "type": item.type})
        return None
    return identity


class MessagesProcessor:
    def __init__(self, ports: InboxPorts) -> None:
        self._ports = ports

    def __call__(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = MessagesValue.model_validate(value)
        ports = self._ports
        connection_id = message.connection_id
        now = ports.clock()
        # the customer's reactions and edits are below, never a message or a ticket; statuses,
        # annotations and errors need only the connection's id: the connection is read for messages
        written = [item for item in parsed.messages if item.type not in ANNOTATION_TYPES]
        if written:
            self._messages(message, parsed, written, now)
        # after the messages of the same change: a target among them is stored, no stub is needed
        annotations = annotations_of(parsed.messages, lambda _: Direction.INBOUND)
        if annotations:
            ports.messages.annotate(connection_id, annotations)
        for status in parsed.statuses:
            status_error = "; ".join(e.text for e in status.errors) or None
            reply = status.biz_opaque_callback_data
            # one of our replies (§7a): its wamid (an unknown answer resolved) and its status
            ours = reply is not None and is_reply_id(reply)
            applied = ours and ports.replies.apply_status(
                connection_id, str(reply), status.id, status.status.lower(), status.error_text
            )
            if applied:
                continue
            if not ports.messages.apply_status(connection_id, status.id, status.status.lower(), status_error):
                logger.info("status not applied (not newer)", extra={"wamid": status.id})
        for error in parsed.errors:
            logger.warning("messages error", extra={"code": error.code, "error": error.text})
            ports.audit.record(
                connection_id,
                "messages_error",
                now,
                key=f"error:{message.log_id}:{error.code}",
                error=f"{error.code}: {error.text}",
            )

    def _messages(
        self, message: ChangeMessage, parsed: MessagesValue, written: list[MessageItem], now: datetime
    ) -> None:
        """The customer's messages of the change (deletions included), against its connection."""
        ports = self._ports
        connection = ports.connection(message)
        business = parsed.metadata.display_phone_number or connection.display_phone_number
        for item in written:
            sender = _sender(parsed.contacts, item)
            if sender is None:
                continue
            if item.type == REVOKE_TYPE:  # the customer deleted a message for everyone: never a ticket
                revoke(
                    ports,
                    connection,
                    item,
                    sender,
                    lead_source=LeadSource.LIVE_MESSAGE,
                    direction=Direction.INBOUND,
                    source=MessageSource.LIVE,
                    now=now,
                    correlation_id=message.correlation_id,
                )
            else:
                self._live_message(connection, business, sender, item, now, message)

    def _live_message(
        self,
        connection: Connection,
        business: str | None,
        identity: ContactIdentity,
        item: MessageItem,
        now: datetime,
        change: ChangeMessage,
    ) -> None:
        ports = self._ports
        correlation_id = change.correlation_id
        at = from_unix(item.timestamp)
        resolved = resolve_lead(
            ports, connection.organization_id, identity, LeadSource.LIVE_MESSAGE, now, correlation_id=correlation_id
        )
        ports.leads.update(resolved.lead.id, message_at=at, push_name=identity.name, overwrite_name=True)
        conversation_id = ports.conversations.ensure(
            connection.organization_id, resolved.lead.id, connection.id, now, at
        )
        new = new_message(
            item,
            business,
            MessageSource.LIVE,
            connection_created_at=connection.created_at,
            received_at=change.received_at,
            direction=Direction.INBOUND,
            status=None,
            correlation_id=correlation_id,
        )
        if not ports.messages.insert(connection.organization_id, connection.id, conversation_id, new):
            ports.messages.restore_revoked(connection.id, new)  # the customer deleted it before it came
        # queued on every delivery: one that stored the message and died before its job went out is
        # redelivered, and its job goes then (the media function downloads each file once)
        queue_media(ports, connection, [new], change.received_at)
        # §8.3: the only path that opens tickets; idempotent per message and per conversation
        origin = ticket_origin(
            resolved.lead,
            lead_created_by_live_traffic=resolved.lead.source is LeadSource.LIVE_MESSAGE
            and resolved.tickets_opened == 0,
        )
        for _ in range(TICKET_OPEN_ATTEMPTS):
            opening = ports.tickets.open(
                lead=resolved,
                connection_id=connection.id,
                conversation_id=conversation_id,
                wamid=item.id,
                origin=origin,
                window=initial_window(origin, at),
                message_at=at,
                source=TicketSource.INCOMING_MESSAGE,
                service_window=service_window_end(at),
                correlation_id=correlation_id,
            )
            if opening.outcome is not OpenOutcome.CONVERSATION_HAS_ONE:
                if opening.ticket_id is not None:  # opened now: a later message may have come first
                    catch_up(ports, opening.ticket_id, conversation_id, at)
                return  # opened now, or by an earlier delivery of this message
            open_id = ports.tickets.open_ticket_id(conversation_id)
            if open_id is not None:
                ports.tickets.touch(open_id, at, at + TICKET_WINDOW)
                return
            # the ticket the open met was closed since: open again; the lead has had a ticket
            origin = ticket_origin(resolved.lead, lead_created_by_live_traffic=False)
        raise TransientError(f"the open ticket of conversation {conversation_id} kept changing")


def catch_up(ports: InboxPorts, ticket_id: str, conversation_id: str, opened_at: datetime) -> None:
    """A ticket's latest message is its conversation's since it opened, whatever was processed first:
    an App echo (another queue) that came after the opening message but was applied before it found no
    ticket to move. One consistent read per ticket opened."""
    latest = ports.conversations.last_message_at(conversation_id)
    if latest is not None and latest > opened_at:
        ports.tickets.moved(ticket_id, latest)
