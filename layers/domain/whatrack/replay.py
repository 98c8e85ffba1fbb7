"""Apply changes that arrived before their connection existed (CONTRACT §4 ``unmatched``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.connections import Connection, ConnectionTarget
from whatrack.queue_messages import ChangeMessage
from whatrack.webhooks.fields import WebhookField

if TYPE_CHECKING:
    from whatrack.ports import ChangePublisher, UnmatchedLog

logger = Logger(child=True)


class UnmatchedReplayer:
    def __init__(self, log: UnmatchedLog, publisher: ChangePublisher) -> None:
        self._log = log
        self._publisher = publisher

    def replay(self, connection: Connection) -> int:
        """Route every change kept for this number to its queue (by reference to the archive).

        Sent first, then marked ``routed``: a crash in between sends a change twice, which the
        consumers absorb (idempotent), never zero times.
        """
        target = ConnectionTarget(connection.id, connection.organization_id)
        entries = [
            e for e in self._log.unmatched(connection.phone_number_id) if e.field in WebhookField._value2member_map_
        ]
        messages = [
            ChangeMessage(
                field=WebhookField(str(entry.field)),
                log_id=entry.id,
                connection_id=connection.id,
                organization_id=connection.organization_id,
                archive_key=entry.archive_key,
                entry_index=entry.entry_index,
                change_index=entry.change_index,
                waba_id=entry.waba_id,
                received_at=entry.at,
                value=None,
            )
            for entry in entries
        ]
        self._publisher.publish(messages)
        for message in messages:
            self._log.attach(message.log_id, target)
        if messages:
            logger.info("unmatched changes replayed", extra={"connection_id": connection.id, "count": len(messages)})
        return len(messages)
