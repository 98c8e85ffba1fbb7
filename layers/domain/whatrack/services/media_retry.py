"""``POST /connections/{id}/media/retry`` (CONTRACT §6): download a connection's ``failed`` files again.

Each moves back to ``pending`` (conditionally: a second call while they are on their way finds
none failed and answers 0) and gets a new job; the media function claims it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.clock import utcnow
from whatrack.domain.media import MediaJob, MediaState, job_of_listed, retry_of
from whatrack.services.lookups import owned_connection

if TYPE_CHECKING:
    from whatrack.ports import ConnectionRepository
    from whatrack.ports.media import MediaJobQueue, MediaStateStore

logger = Logger(child=True)

PAGE = 100


class MediaRetry:
    def __init__(
        self,
        connections: ConnectionRepository,
        store: MediaStateStore,
        jobs: MediaJobQueue,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._connections = connections
        self._store = store
        self._jobs = jobs
        self._clock = clock

    def retry(self, organization_id: str, connection_id: str) -> int:
        """The number of files queued again."""
        connection = owned_connection(self._connections, organization_id, connection_id)
        retried = 0
        seen: set[str] = set()  # the index may still list a file just moved
        while listed := self._store.listed(connection.id, MediaState.FAILED, limit=PAGE):
            failed = [item for item in listed if item.wamid not in seen]
            if not failed:
                break
            seen.update(item.wamid for item in failed)
            now = self._clock()
            jobs: list[MediaJob] = []
            for item in failed:
                media = {**item.media, "error": None, "retry": retry_of(item.media) + 1}
                if not self._store.requeue(connection.id, item.wamid, MediaState.FAILED, media, now):
                    continue  # retried by someone else meanwhile
                jobs.append(job_of_listed(replace(item, media=media)))
            if jobs:
                self._jobs.enqueue(jobs)
            retried += len(jobs)
            if len(listed) < PAGE:
                break
        logger.info("media retried", extra={"connection_id": connection.id, "retried": retried})
        return retried
