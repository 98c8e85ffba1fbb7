"""Apply changes that arrived before their connection existed (CONTRACT §4 ``unmatched``)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage, known_field
from whatrack.domain.connections import Connection, ConnectionTarget
from whatrack.ports import ChangePublisher, WebhookLog

logger = Logger(child=True)


class UnmatchedReplayer:
    def __init__(self, log: WebhookLog, publisher: ChangePublisher) -> None:
        self._log = log
        self._publisher = publisher

    def replay(self, connection: Connection) -> int:
        """Route every change kept for this number to its queue (by reference to the archive).

        Sent first, then marked ``routed``: a crash in between sends a change twice, which the
        consumers absorb (idempotent), never zero times.
        """
        target = ConnectionTarget(connection.id, connection.organization_id)
        messages = [
            ChangeMessage.from_archive(entry, field, connection.id, connection.organization_id)
            for entry in self._log.unmatched(connection.phone_number_id)
            if (field := known_field(entry.field)) is not None
        ]
        self._publisher.publish(messages)
        for message in messages:
            self._log.attach(message.log_id, target)
        if messages:
            logger.info("unmatched changes replayed", extra={"connection_id": connection.id, "count": len(messages)})
        return len(messages)
