"""``smb_app_state_sync``: the Business App's contacts add, update and soft-delete leads (§8.6).

A change may carry thousands of contacts (the initial dump): they are applied in batches of
:data:`CONTACT_BATCH` (a few DynamoDB requests each), in the order Meta's timestamps give. A
change larger than one batch is checkpointed after each batch, so a retry continues where the
previous attempt stopped; before each batch the processor checks the invocation's remaining time
and, when too little is left, stops cleanly (``ContactSyncPausedError``, retryable) instead of
being killed mid-write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from whatrack.domain.clock import from_unix
from whatrack.domain.contacts import CONTACT_BATCH, ContactAction, ContactChange, ContactSyncResult
from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.inbox import LeadSource
from whatrack.services.processors.identity import resolve_lead
from whatrack.webhooks.payloads import StateSyncValue

if TYPE_CHECKING:
    from whatrack.domain.changes import ChangeMessage
    from whatrack.services.processors.base import InboxPorts
    from whatrack.webhooks.payloads import StateSyncItem

logger = Logger(child=True)

RESERVE_MS = 10_000
"""Time kept back when starting a batch: a batch and its checkpoint take well under a second."""


class ContactSyncPausedError(TransientError):
    """The invocation is running out of time: the change is retried and resumes at its checkpoint."""


def no_deadline() -> int | None:
    return None


class ContactsProcessor:
    def __init__(
        self,
        ports: InboxPorts,
        *,
        remaining_ms: Callable[[], int | None] = no_deadline,
        reserve_ms: int = RESERVE_MS,
        batch_size: int = CONTACT_BATCH,
    ) -> None:
        self._ports = ports
        self._remaining_ms = remaining_ms
        self._reserve_ms = reserve_ms
        self._batch_size = batch_size

    def __call__(self, message: ChangeMessage, value: dict[str, Any]) -> None:
        parsed = StateSyncValue.model_validate(value)
        ports = self._ports
        connection = ports.connection(message)
        now = ports.clock()
        changes = [c for c in (self._change(message, item) for item in parsed.state_sync) if c is not None]
        checkpointed = len(changes) > self._batch_size
        done = ports.contacts.progress(connection.id, message.log_id) if checkpointed else 0
        total = ContactSyncResult()
        while done < len(changes):
            left = self._remaining_ms()
            if left is not None and left < self._reserve_ms:
                logger.info("contact sync paused", extra={"done": done, "contacts": len(changes), "left_ms": left})
                if total.counted:
                    ports.metrics.count("ContactsImported", total.counted)
                raise ContactSyncPausedError(f"contact sync paused at {done}/{len(changes)}: out of time")
            batch = changes[done : done + self._batch_size]
            applied = ports.contacts.apply(
                connection.organization_id, connection.id, batch, now, correlation_id=message.correlation_id
            )
            for identity in applied.to_merge:  # one person known as two leads (§8.10): rare, one by one
                resolve_lead(ports, connection.organization_id, identity, LeadSource.STATE_SYNC, now)
            total += applied
            done += len(batch)
            if checkpointed:
                ports.contacts.save_progress(connection.id, message.log_id, done)
        if total.counted:
            ports.metrics.count("ContactsImported", total.counted)
        if total.stale:
            logger.info("older contact changes left as they were", extra={"stale": total.stale})

    @staticmethod
    def _change(message: ChangeMessage, item: StateSyncItem) -> ContactChange | None:
        contact = item.contact
        identity = ContactIdentity.of(
            wa_id=contact.phone_number, user_id=contact.user_id, name=contact.full_name or contact.first_name
        )
        if item.type != "contact" or not identity.known:
            logger.warning("state_sync item skipped", extra={"type": item.type, "action": item.action})
            return None
        if item.action not in ContactAction._value2member_map_:
            logger.warning("unknown state_sync action", extra={"action": item.action})
            return None
        timestamp = item.metadata.timestamp if item.metadata else None
        at = from_unix(timestamp) if timestamp is not None else (message.event_at or message.received_at)
        return ContactChange(identity=identity, action=ContactAction(item.action), at=at)
