"""``smb_app_state_sync``: the Business App's contacts add, update and soft-delete leads (§8.6)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import LeadSource
from whatrack.services.processors.base import InboxPorts
from whatrack.webhooks.payloads import StateSyncValue

logger = Logger(child=True)


class ContactsProcessor:
    def __init__(self, ports: InboxPorts) -> None:
        self._ports = ports

    def __call__(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = StateSyncValue.model_validate(value)
        ports = self._ports
        connection = ports.connection(message)
        now = ports.clock()
        # when Meta sent the contact, not when we applied it: a replay of the change sets the same time
        synced_at = message.event_at or message.received_at
        for item in parsed.state_sync:
            contact = item.contact
            identity = ContactIdentity.of(
                wa_id=contact.phone_number, user_id=contact.user_id, name=contact.full_name or contact.first_name
            )
            if item.type != "contact" or not identity.known:
                logger.warning("state_sync item skipped", extra={"type": item.type, "action": item.action})
                continue
            if item.action == "add":
                resolved = ports.leads.resolve(
                    connection.organization_id,
                    identity,
                    LeadSource.STATE_SYNC,
                    now,
                    correlation_id=message.correlation_id,
                )
                ports.leads.update(
                    resolved.lead.id, push_name=identity.name, overwrite_name=True, synced_at=synced_at, active=True
                )
                if ports.sync.count_contact(connection.id, resolved.lead.id):
                    ports.metrics.count("ContactsImported")
            elif item.action == "remove":
                lead = ports.leads.find(connection.organization_id, identity)
                if lead is not None:
                    ports.leads.update(lead.id, synced_at=synced_at, active=False)
            else:
                logger.warning("unknown state_sync action", extra={"action": item.action})
