"""``smb_message_echoes``: what the business types in the App becomes OUTBOUND ``app_echo`` (§8.7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from whatrack.domain.clock import from_unix
from whatrack.domain.inbox import LeadSource
from whatrack.domain.messages import ANNOTATION_TYPES, REVOKE_TYPE, Direction, MessageSource
from whatrack.services.processors.annotations import annotations_of
from whatrack.services.processors.base import identity_from_contacts, new_message, queue_media
from whatrack.services.processors.identity import resolve_lead
from whatrack.services.processors.revokes import revoke
from whatrack.webhooks.payloads import EchoesValue

if TYPE_CHECKING:
    from whatrack.domain.changes import ChangeMessage
    from whatrack.services.processors.base import InboxPorts

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
            if item.type in ANNOTATION_TYPES:
                continue  # the business reacted or edited in the App: below, on their messages
            identity = identity_from_contacts(parsed.contacts, item.to, item.to_user_id)
            if not identity.known:
                logger.warning("echo without a recipient skipped", extra={"wamid": item.id})
                continue
            if item.type == REVOKE_TYPE:
                revoke(
                    ports,
                    connection,
                    item,
                    identity,
                    lead_source=LeadSource.DIRECT_CREATION,
                    direction=Direction.OUTBOUND,
                    source=MessageSource.APP_ECHO,
                    now=now,
                    correlation_id=message.correlation_id,
                )
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
            ports.leads.update(resolved.lead.id, message_at=at)
            new = new_message(
                item,
                business,
                MessageSource.APP_ECHO,
                connection_created_at=connection.created_at,
                received_at=message.received_at,
                direction=Direction.OUTBOUND,
                status="sent",
                meta_confirmed_at=now,
                correlation_id=message.correlation_id,
            )
            if not ports.messages.insert(connection.organization_id, connection.id, conversation_id, new):
                ports.messages.restore_revoked(connection.id, new)
                ports.messages.confirm_echo(connection.id, item.id, now)
            # on every delivery (a forward move: nothing the second time), so that a delivery that died
            # after its insert still moves the open ticket's latest message: it shows the App's too
            open_id = ports.tickets.open_ticket_id(conversation_id)
            if open_id is not None:
                ports.tickets.moved(open_id, at)
            queue_media(ports, connection, [new], message.received_at)  # on every delivery (see messages)
        # after the messages of the same change: a target among them is stored, no stub is needed
        annotations = annotations_of(parsed.message_echoes, lambda _: Direction.OUTBOUND)
        if annotations:
            ports.messages.annotate(connection.id, annotations)
