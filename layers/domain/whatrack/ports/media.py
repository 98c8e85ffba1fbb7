"""Ports of the media pipeline (CONTRACT §7 Media): the jobs, the state kept on each message, Meta's
side (the URL of a media id, the file behind it) and our bucket."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from whatrack.domain.media import ClaimedMedia, KeptFile, ListedMedia, MediaInfo, MediaJob, MediaState


class MediaJobQueue(Protocol):
    def enqueue(self, jobs: Sequence[MediaJob]) -> None:
        """Queue download jobs (raises :class:`TransientError` if the queue is unavailable)."""


class MediaStateStore(Protocol):
    """Each message's media state, on the message's own key, with its connection's counts moved in
    the same write. Every move is conditional on the state it leaves."""

    def claim(self, connection_id: str, wamid: str, now: datetime, lease_until: datetime) -> ClaimedMedia | None:
        """Hold a ``pending`` file for one download; ``None`` when it is not pending (nothing left
        to do); :class:`MediaHeldError` while another download holds it (until its lease ends)."""

    def settle(self, connection_id: str, wamid: str, state: MediaState, media: dict[str, Any], now: datetime) -> bool:
        """``pending`` → ``state`` with ``media`` (its new record); False if it was not pending."""

    def note_attempt(self, connection_id: str, wamid: str, media: dict[str, Any]) -> bool:
        """A failed attempt of a still ``pending`` file: keep ``media`` (its last error) and let the
        next attempt claim it at once."""

    def requeue(self, connection_id: str, wamid: str, state: MediaState, media: dict[str, Any], now: datetime) -> bool:
        """``state`` (``failed``: a retry asked for) → ``pending`` again with ``media``; or, for
        ``pending``, a new place in the listing (a sweep that queued it again). False when it was not
        in ``state``."""

    def give_up_placeholder(self, connection_id: str, wamid: str, media: dict[str, Any], now: datetime) -> bool:
        """``placeholder`` → ``unavailable`` (its follow-up never came); False if it was not a placeholder."""

    def listed(
        self, connection_id: str, state: MediaState, *, before: datetime | None = None, limit: int = 100
    ) -> list[ListedMedia]:
        """Up to ``limit`` of the connection's files in a listed state (``pending``, ``failed``,
        ``placeholder``), oldest first, only those listed before ``before`` when given."""


class MediaSource(Protocol):
    """Meta's side: every Graph failure is an :class:`UpstreamError` (``meta_code`` 100 for an id
    Meta no longer has); the download raises :class:`MediaUrlGoneError`, :class:`UpstreamError` for
    a refusal, or :class:`TransientError`."""

    def media_info(self, media_id: str, phone_number_id: str, token: str) -> MediaInfo: ...

    def download(self, url: str, token: str) -> AbstractContextManager[Iterator[bytes]]:
        """The file's bytes in blocks, read as they are consumed (never whole in memory)."""


class MediaFiles(Protocol):
    """Our bucket of media files (keys never name a phone number)."""

    def put(
        self, key: str, blocks: Iterator[bytes], *, content_type: str, filename: str | None, max_bytes: int
    ) -> KeptFile:
        """Stream ``blocks`` into ``key`` (multipart for a large file), hashing as it goes; raises
        :class:`FileTooLargeError` past ``max_bytes`` (the upload is aborted)."""

    def delete(self, key: str) -> None: ...
