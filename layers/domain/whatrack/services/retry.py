"""Retry a connection's failed changes from the archive: history ones from the dashboard (``POST
.../history-sync/retry``), every field's from the operator's ``make replay FAILED=1``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage, WebhookField
from whatrack.domain.clock import iso, utcnow
from whatrack.services.lookups import owned_connection

if TYPE_CHECKING:
    from whatrack.ports import AuditLog, ChangePublisher, ConnectionRepository, HistorySyncStore, WebhookLog
    from whatrack.services.replay import ReplayScheduler

logger = Logger(child=True)


class ChunkRetry:
    def __init__(
        self,
        *,
        connections: ConnectionRepository,
        log: WebhookLog,
        publisher: ChangePublisher,
        sync: HistorySyncStore,
        audit: AuditLog,
        replays: ReplayScheduler,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._connections = connections
        self._log = log
        self._publisher = publisher
        self._sync = sync
        self._audit = audit
        self._replays = replays
        self._clock = clock

    def retry(
        self, organization_id: str, connection_id: str, fields: Iterable[WebhookField] = (WebhookField.HISTORY,)
    ) -> int:
        """Send every ``failed`` change of these ``fields`` of this connection to its queue again (by
        reference to the archive), then mark it ``routed``; with history, the sync leaves ``failed``.
        Changes still kept ``unmatched`` for its number (a replay that failed when it was connected) get
        a replay job. Idempotent: a change already re-sent is no longer ``failed``, and the consumers
        absorb a duplicate."""
        connection = owned_connection(self._connections, organization_id, connection_id)
        now = self._clock()
        messages = [
            ChangeMessage.from_archive(entry, field, connection.id, connection.organization_id)
            for field in fields
            for entry in self._log.failed(connection.id, field)
        ]
        # sent first, then marked: a crash in between sends a change twice (absorbed), never zero times
        self._publisher.publish(messages)
        retried = sum(1 for m in messages if self._log.retry(m.log_id, now))
        # changes still kept for this number (its replay failed or is late): a replay job, not now
        replayed = self._replays.kept(connection)
        if replayed:
            self._replays.schedule(connection, reason="retry")
        if any(m.field is WebhookField.HISTORY for m in messages):
            self._sync.resume(connection.id)
        if messages:
            self._audit.record(
                connection.id, "sync_retry", now, key=f"retry:{iso(now)}", status=f"{len(messages)} change(s) re-sent"
            )
            logger.info("failed changes re-sent", extra={"connection_id": connection.id, "count": retried})
        return len(messages) + replayed
