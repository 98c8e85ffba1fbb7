"""The replay tool (``make replay``): re-deliver a connection's archived changes of a time range.

Every webhook entry of the connection first received in ``[start, end]`` is sent again to its
field's queue by reference to its archived body, exactly as the retry and the reconciler do; the
consumers load the value from the archive and apply it. Idempotent: every effect of a change is
(§4), so replaying a range twice changes nothing; a log entry keeps its outcome (an equal one is
written again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage, WebhookField, known_field
from whatrack.domain.clock import iso, utcnow
from whatrack.domain.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from whatrack.ports import AuditLog, ChangePublisher, ConnectionRepository, WebhookLog
    from whatrack.services.retry import ChunkRetry

logger = Logger(child=True)


@dataclass
class ArchiveReplayReport:
    connection_id: str
    pages: int = 0
    entries: int = 0
    sent: int = 0


class ArchiveReplay:
    def __init__(
        self,
        *,
        log: WebhookLog,
        connections: ConnectionRepository,
        publisher: ChangePublisher,
        audit: AuditLog,
        retry: ChunkRetry,
        page_size: int = 100,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._retry = retry
        self._log = log
        self._connections = connections
        self._publisher = publisher
        self._audit = audit
        self._page_size = page_size
        self._clock = clock

    def retry_failed(self, connection_id: str) -> int:
        """Re-send the connection's ``failed`` changes of every field (as the dashboard's retry does
        for history); how many were sent."""
        connection = self._connections.get(connection_id)
        if connection is None:
            raise NotFoundError(f"connection {connection_id} not found")
        return self._retry.retry(connection.organization_id, connection.id, fields=tuple(WebhookField))

    def replay(self, connection_id: str, start: datetime, end: datetime) -> ArchiveReplayReport:
        if end < start:
            raise InvalidInputError("the end of the range is before its start")
        connection = self._connections.get(connection_id)
        if connection is None:
            raise NotFoundError(f"connection {connection_id} not found")
        report = ArchiveReplayReport(connection.id)
        cursor: str | None = None
        while True:
            page = self._log.of_connection(connection.id, start, end, limit=self._page_size, cursor=cursor)
            report.pages += 1
            report.entries += len(page.items)
            messages = [
                ChangeMessage.from_archive(entry, field, connection.id, connection.organization_id)
                for entry in page.items
                if (field := known_field(entry.field)) is not None
            ]
            self._publisher.publish(messages)
            report.sent += len(messages)
            cursor = page.next_cursor
            if cursor is None:
                break
        now = self._clock()
        self._audit.record(
            connection.id,
            "archive_replayed",
            now,
            key=f"archive_replay:{iso(now)}",
            status=f"{report.sent} change(s) of {iso(start)}..{iso(end)} sent again from the archive",
        )
        logger.info("archive replayed", extra={"connection_id": connection.id, "sent": report.sent})
        return report
