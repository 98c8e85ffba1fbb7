"""The media pipeline in memory: the jobs, each message's media state (on the fakes' message rows,
as the DynamoDB adapter keeps it on the message's item) and our bucket."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.fakes.database import InMemoryDatabase, MessageRow
from whatrack.domain.counting import media_move, media_state_of
from whatrack.domain.media import (
    LISTED,
    ClaimedMedia,
    FileTooLargeError,
    KeptFile,
    ListedMedia,
    MediaHeldError,
    MediaJob,
    MediaState,
)


@dataclass
class RecordingMediaJobs:
    """:class:`whatrack.ports.MediaJobQueue`: the jobs queued, in order."""

    jobs: list[MediaJob] = field(default_factory=list)

    def enqueue(self, jobs: Sequence[MediaJob]) -> None:
        self.jobs.extend(jobs)

    def take(self) -> list[MediaJob]:
        taken, self.jobs = self.jobs, []
        return taken


@dataclass
class InMemoryMediaState:
    """:class:`whatrack.ports.MediaStateStore` on the message rows, counts on the connection row."""

    db: InMemoryDatabase

    def _row(self, connection_id: str, wamid: str) -> MessageRow | None:
        """The stored message (a stub holding early statuses has no media)."""
        row = self.db.messages.get((connection_id, wamid))
        return row if row is not None and row.stored else None

    def claim(self, connection_id: str, wamid: str, now: datetime, lease_until: datetime) -> ClaimedMedia | None:
        with self.db.lock:
            row = self._row(connection_id, wamid)
            if row is None or media_state_of(row.media) is not MediaState.PENDING:
                return None
            if row.media_lease is not None and row.media_lease >= now:
                raise MediaHeldError(f"held until {row.media_lease}")
            row.media_lease = lease_until
            assert row.organization_id is not None
            return ClaimedMedia(media=copy.deepcopy(row.media or {}), organization_id=row.organization_id)

    def settle(self, connection_id: str, wamid: str, state: MediaState, media: dict[str, Any], now: datetime) -> bool:
        return self._move(connection_id, wamid, MediaState.PENDING, state, media, now)

    def note_attempt(self, connection_id: str, wamid: str, media: dict[str, Any]) -> bool:
        with self.db.lock:
            row = self._row(connection_id, wamid)
            if row is None or media_state_of(row.media) is not MediaState.PENDING:
                return False
            row.media = {**copy.deepcopy(media), "state": MediaState.PENDING.value}
            row.media_lease = None
            return True

    def requeue(self, connection_id: str, wamid: str, state: MediaState, media: dict[str, Any], now: datetime) -> bool:
        if state is MediaState.PENDING:
            with self.db.lock:
                row = self._row(connection_id, wamid)
                if row is None or media_state_of(row.media) is not MediaState.PENDING:
                    return False
                row.media_since = now
                return True
        return self._move(connection_id, wamid, state, MediaState.PENDING, media, now)

    def give_up_placeholder(self, connection_id: str, wamid: str, media: dict[str, Any], now: datetime) -> bool:
        return self._move(connection_id, wamid, MediaState.PLACEHOLDER, MediaState.UNAVAILABLE, media, now)

    def _move(
        self,
        connection_id: str,
        wamid: str,
        before: MediaState,
        after: MediaState,
        media: dict[str, Any],
        now: datetime,
    ) -> bool:
        with self.db.lock:
            row = self._row(connection_id, wamid)
            if row is None or media_state_of(row.media) is not before:
                return False
            row.media = {**copy.deepcopy(media), "state": after.value}
            row.media_lease = None
            row.media_since = now
            counters = self.db.connection_row(connection_id).counters
            for count in media_move(before, after):
                counters[count.counter] += count.amount
            counters["activity"] += 1
            return True

    def listed(
        self, connection_id: str, state: MediaState, *, before: datetime | None = None, limit: int = 100
    ) -> list[ListedMedia]:
        assert state in LISTED
        with self.db.lock:
            found = []
            for (conn, wamid), row in self.db.messages.items():
                if conn != connection_id or not row.stored or media_state_of(row.media) is not state:
                    continue
                since = row.media_since or row.timestamp
                assert since is not None and row.organization_id is not None
                if before is None or since < before:
                    found.append(ListedMedia(conn, row.organization_id, wamid, copy.deepcopy(row.media or {}), since))
        return sorted(found, key=lambda m: (m.since, m.wamid))[:limit]


@dataclass
class StoredObject:
    body: bytes
    content_type: str
    filename: str | None


@dataclass
class InMemoryMediaFiles:
    """:class:`whatrack.ports.MediaFiles`: objects by key; ``largest_block`` shows a file was streamed."""

    objects: dict[str, StoredObject] = field(default_factory=dict)
    puts: int = 0
    largest_block: int = 0

    def put(
        self, key: str, blocks: Iterator[bytes], *, content_type: str, filename: str | None, max_bytes: int
    ) -> KeptFile:
        self.puts += 1
        body = bytearray()
        for block in blocks:
            self.largest_block = max(self.largest_block, len(block))
            body += block
            if len(body) > max_bytes:
                raise FileTooLargeError(f"more than {max_bytes} bytes")
        self.objects[key] = StoredObject(bytes(body), content_type, filename)
        return KeptFile(key=key, sha256=hashlib.sha256(body).hexdigest(), size=len(body))

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
