"""The watchdog's media sweeps (CONTRACT §7 Media, §8.11: nothing stays ``pending`` for ever).

- A ``pending`` file listed longer ago than ``sweep_after`` has lost its job (a job retries for at
  most its queue's 6 receives of 30 minutes, then its dead letter settles it ``failed``): it gets a new
  job and a new place in the listing. A job that was only slow finds it claimed, or done: one
  download either way.
- A ``placeholder`` whose history has been quiet for 7 days will never get its follow-up:
  ``unavailable``.

Each looks only while its connection counts files in that state (the counts are on the connection
the round already read), so a quiet connection costs no request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.clock import utcnow
from whatrack.domain.media import MediaState, job_of_listed, placeholders_given_up

if TYPE_CHECKING:
    from whatrack.domain.connections import Connection
    from whatrack.ports.media import MediaJobQueue, MediaStateStore

logger = Logger(child=True)

PAGE = 100
PAGES_PER_ROUND = 10
"""At most 1,000 files of a connection per state and round: the round stays within its time; the rest
are the next round's."""


@dataclass(frozen=True)
class SweepResult:
    requeued: int = 0
    given_up: int = 0


class MediaSweep:
    def __init__(
        self,
        store: MediaStateStore,
        jobs: MediaJobQueue,
        *,
        sweep_after: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._jobs = jobs
        self._sweep_after = sweep_after
        self._clock = clock

    def sweep(self, connection: Connection, now: datetime) -> SweepResult:
        requeued = self._requeue_lost(connection, now) if connection.media_files.get("pending", 0) > 0 else 0
        given_up = self._give_up_placeholders(connection, now) if self._placeholders_due(connection, now) else 0
        if requeued or given_up:
            logger.info(
                "media swept", extra={"connection_id": connection.id, "requeued": requeued, "given_up": given_up}
            )
        return SweepResult(requeued=requeued, given_up=given_up)

    def _requeue_lost(self, connection: Connection, now: datetime) -> int:
        """The job first, then the new place in the listing: a failure in between queues it twice
        (downloaded once), never not at all."""
        requeued = 0
        seen: set[str] = set()  # the index may still list a file just moved
        for _ in range(PAGES_PER_ROUND):
            listed = self._store.listed(connection.id, MediaState.PENDING, before=now - self._sweep_after, limit=PAGE)
            lost = [item for item in listed if item.wamid not in seen]
            if not lost:
                break
            seen.update(item.wamid for item in lost)
            self._jobs.enqueue([job_of_listed(item) for item in lost])
            moved = self._clock()
            for item in lost:
                if self._store.requeue(connection.id, item.wamid, MediaState.PENDING, item.media, moved):
                    requeued += 1
            if len(listed) < PAGE:
                break
        return requeued

    @staticmethod
    def _placeholders_due(connection: Connection, now: datetime) -> bool:
        if connection.media_files.get(MediaState.PLACEHOLDER.value, 0) <= 0:
            return False
        history = connection.history
        quiet_since = max((t for t in (history.completed_at, history.last_payload_at) if t is not None), default=None)
        return placeholders_given_up(quiet_since, now)

    def _give_up_placeholders(self, connection: Connection, now: datetime) -> int:
        given_up = 0
        for _ in range(PAGES_PER_ROUND):
            waiting = self._store.listed(connection.id, MediaState.PLACEHOLDER, limit=PAGE)
            for item in waiting:
                if self._store.give_up_placeholder(connection.id, item.wamid, item.media, self._clock()):
                    given_up += 1
            if len(waiting) < PAGE:
                break
        return given_up
