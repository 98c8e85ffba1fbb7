"""Apply changes that arrived before their connection existed (CONTRACT §4 ``unmatched``).

Ingest keeps such a change (a log entry ``unmatched`` and a kept item of its number, strongly
readable), then reads the phone guard again, strongly: if the connection appeared meanwhile it
routes the change itself (:meth:`KeptChanges.route`). Connection creation only enqueues a
:class:`ReplayJob`; the replay function pages through the number's kept changes
(:meth:`UnmatchedReplayer.run`), a bounded number of pages per job, and enqueues its continuation.
Either side may route a change the other routes too: the consumers are idempotent. What is still
kept later is found by the reconciler, which routes it itself once its number is connected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage, ReplayJob, known_field
from whatrack.domain.clock import utcnow
from whatrack.domain.routing import ConnectionTarget

if TYPE_CHECKING:
    from whatrack.domain.connections import Connection
    from whatrack.domain.log import WebhookLogEntry
    from whatrack.ports import ChangePublisher, ConnectionRepository, MetricsRecorder, ReplayJobQueue, WebhookLog

logger = Logger(child=True)

PAGE_SIZE = 100
PAGES_PER_JOB = 10


class KeptChanges:
    """Routes kept changes to their queues once their connection exists (ingest, the reconciler and
    the replay jobs share it)."""

    def __init__(self, log: WebhookLog, publisher: ChangePublisher, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._log = log
        self._publisher = publisher
        self._clock = clock

    def route(self, entries: Sequence[WebhookLogEntry], target: ConnectionTarget) -> int:
        """Send kept changes to their field's queue (by reference to the archive), then mark each
        ``routed`` and no longer kept.

        Sent first, then marked: a crash in between sends a change twice, which the consumers absorb
        (idempotent), never zero times. A send that fails raises: nothing was marked.
        """
        messages = [
            ChangeMessage.from_archive(entry, field, target.connection_id, target.organization_id)
            for entry in entries
            if (field := known_field(entry.field)) is not None
        ]
        self._publisher.publish(messages)
        now = self._clock()
        for entry in entries:
            self._log.attach(entry.id, target, now)  # False when routed already (by ingest or another job)
            if entry.phone_number_id is not None:
                self._log.release(entry.phone_number_id, entry.id)
        return len(messages)


class ReplayScheduler:
    """Queues a replay job for a connection's kept changes (a connection created, a retry asked)."""

    def __init__(self, log: WebhookLog, jobs: ReplayJobQueue) -> None:
        self._log = log
        self._jobs = jobs

    def schedule(self, connection: Connection, reason: str = "connected") -> bool:
        """Enqueue a replay of the connection's kept changes, if any are kept (a strongly consistent
        read: the guard was written before, so a change kept after this read is routed by ingest).
        True when a job was queued; raises :class:`TransientError` if it could not be."""
        if not self._log.unmatched(connection.phone_number_id, limit=1).items:
            return False
        self._jobs.enqueue(ReplayJob(connection_id=connection.id, reason=reason))
        return True

    def kept(self, connection: Connection) -> int:
        """How many changes are still kept for the connection's number."""
        return len(self._log.unmatched(connection.phone_number_id).items)


class UnmatchedReplayer:
    """The replay function's job: route a connection's kept changes, page by page."""

    def __init__(
        self,
        log: WebhookLog,
        kept: KeptChanges,
        jobs: ReplayJobQueue,
        connections: ConnectionRepository,
        metrics: MetricsRecorder,
        *,
        page_size: int = PAGE_SIZE,
        pages_per_job: int = PAGES_PER_JOB,
    ) -> None:
        self._log = log
        self._kept = kept
        self._jobs = jobs
        self._connections = connections
        self._metrics = metrics
        self._page_size = page_size
        self._pages_per_job = pages_per_job

    def run(self, job: ReplayJob) -> int:
        """Route up to ``pages_per_job`` pages of kept changes; enqueue the rest as a continuation.

        Any failure raises (the job is retried by its queue, then dead-lettered and alarmed; the
        reconciler enqueues a new one for changes still kept). Returns the changes sent. A job for a
        connection that does not exist (deleted since) has nothing to replay.
        """
        connection = self._connections.get(job.connection_id)
        if connection is None:
            logger.warning("replay job for an unknown connection", extra={"connection_id": job.connection_id})
            return 0
        target = ConnectionTarget(connection.id, connection.organization_id)
        cursor, sent = job.cursor, 0
        for _ in range(self._pages_per_job):
            page = self._log.unmatched(connection.phone_number_id, limit=self._page_size, cursor=cursor)
            sent += self._kept.route(page.items, target)
            cursor = page.next_cursor
            if cursor is None:
                break
        else:
            self._jobs.enqueue(job.with_changes(cursor=cursor))
        self._metrics.count("UnmatchedReplayed", sent)
        if sent:
            logger.info(
                "unmatched changes replayed",
                extra={"connection_id": connection.id, "count": sent, "more": cursor is not None, "reason": job.reason},
            )
        return sent
