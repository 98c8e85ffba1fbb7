"""The media function's work (CONTRACT §7 Media, §8.11): one download per (connection, wamid).

A job claims its file (``pending``, and no other download holding it), asks Graph for the file's
URL with the connection's token, streams it into our bucket while hashing it, checks Meta's digest
and settles the file ``stored``; or names its ending: ``expired`` (Graph's code 100, or older than
Meta's 7 days), ``too_large`` (Meta's size or ours), ``failed`` (a refusal retrying cannot change:
the token, an untrusted host). Anything that may heal (429, 5xx, a timeout, a digest that does not
match) is noted on the file and raised: the queue retries with its backoff, and its dead letter
settles the file ``failed`` with the last error, retryable from the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger

from whatrack.domain.clock import utcnow
from whatrack.domain.errors import TransientError, UpstreamError
from whatrack.domain.ids import stable_id
from whatrack.domain.media import (
    FileTooLargeError,
    MediaHeldError,
    MediaState,
    MediaUrlGoneError,
    expired_by_age,
    media_error,
    retry_of,
    served_type,
)

if TYPE_CHECKING:
    from whatrack.domain.media import ClaimedMedia, MediaInfo, MediaJob
    from whatrack.ports import ConnectionRepository, MetricsRecorder, TokenVault
    from whatrack.ports.media import MediaFiles, MediaSource, MediaStateStore

logger = Logger(child=True)

TOKEN_CODES = frozenset({190})
EXPIRED_CODE = 100
URL_ATTEMPTS = 2
"""A media URL that answers 404 gets one new URL (Meta's advice), then the attempt is retried later."""


@dataclass(frozen=True)
class AllowedHosts:
    """``MEDIA_DOWNLOAD_HOSTS``: https hosts a download may go to; ``http://host:port`` entries allow
    plain http to that address (the local simulator). The business token goes nowhere else."""

    entries: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> AllowedHosts:
        return cls(frozenset(entry.strip().lower().rstrip("/") for entry in text.split(",") if entry.strip()))

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # a port that is not a number, or out of range
            return False
        host = (parts.hostname or "").lower()
        if not host or "@" in parts.netloc or "\\" in parts.netloc:
            return False  # user info: the host urllib connects to is not the one checked here
        if parts.scheme == "https":
            return host in self.entries and port in (None, 443)
        if parts.scheme == "http":
            return f"http://{parts.netloc.lower()}" in self.entries
        return False


def media_key(connection_id: str, wamid: str) -> str:
    """The object key of a file: no phone number in it (a wamid encodes one)."""
    return f"media/{connection_id}/{stable_id('media', connection_id, wamid)}"


class MediaFetcher:
    def __init__(
        self,
        *,
        store: MediaStateStore,
        source: MediaSource,
        files: MediaFiles,
        connections: ConnectionRepository,
        tokens: TokenVault,
        hosts: AllowedHosts,
        max_bytes: int,
        lease: timedelta,
        metrics: MetricsRecorder,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._source = source
        self._files = files
        self._connections = connections
        self._tokens = tokens
        self._hosts = hosts
        self._max_bytes = max_bytes
        self._lease = lease
        self._metrics = metrics
        self._clock = clock

    def fetch(self, job: MediaJob) -> MediaState | None:
        """The file's ending; ``None`` when there was nothing left to do (not pending any more)."""
        claimed = self._claim(job)
        if claimed is None:
            return None
        now = self._clock()
        media = claimed.media
        try:
            state, update = self._download(job, media, now)
        except (TransientError, UpstreamError) as exc:
            # may heal: noted (the file stays pending, claimable at once) and retried by the queue
            self._store.note_attempt(job.connection_id, job.wamid, {**media, "error": _error_of(exc)})
            raise TransientError(f"media download of {job.media_id} failed: {exc}") from exc
        except Exception as exc:
            # a bug of ours: never taken for Meta's failure. Named on the file, counted (alarmed), and
            # raised as it is: the queue retries it, then its dead letter fails the file with this error
            error = media_error("internal", f"our error ({type(exc).__name__}); fixed, the retry downloads it")
            self._store.note_attempt(job.connection_id, job.wamid, {**media, "error": error})
            self._metrics.count("MediaInternalErrors")
            raise
        self._store.settle(job.connection_id, job.wamid, state, {**media, **update}, self._clock())
        self._metrics.count(f"Media{state.value.title().replace('_', '')}")
        logger.info("media settled", extra={"wamid_hash": stable_id(job.wamid)[:12], "state": state.value})
        return state

    def _claim(self, job: MediaJob) -> ClaimedMedia | None:
        """The file for this job (``None``: nothing left to do). Held by another download (which may
        have died mid-file): raised as transient, so the queue brings the job back after its lease."""
        now = self._clock()
        try:
            return self._store.claim(job.connection_id, job.wamid, now, now + self._lease)
        except MediaHeldError as exc:
            raise TransientError(f"the file is being downloaded ({exc})") from exc

    def give_up(self, job: MediaJob) -> bool:
        """A dead letter: the file ends ``failed`` with its last attempt's error (retryable)."""
        claimed = self._claim(job)
        if claimed is None:
            return False
        if retry_of(claimed.media) != job.retry:
            # a dead letter of an earlier attempt: a newer retry's job has the file; let it go
            self._store.note_attempt(job.connection_id, job.wamid, claimed.media)
            return False
        now = self._clock()
        error = claimed.media.get("error") or media_error("retries_exhausted", "the download kept failing")
        failed = {**claimed.media, "error": error}
        return self._store.settle(job.connection_id, job.wamid, MediaState.FAILED, failed, now)

    # ------------------------------------------------------------------ the steps
    def _download(self, job: MediaJob, media: dict[str, Any], now: datetime) -> tuple[MediaState, dict[str, Any]]:
        if expired_by_age(job.received_at, now):
            return MediaState.EXPIRED, {"error": media_error("expired", "Meta keeps a media file 7 days")}
        connection = self._connections.get(job.connection_id)
        if connection is None:
            raise TransientError(f"connection {job.connection_id} not found")
        if connection.access_token_secret_id is None:
            return MediaState.FAILED, {"error": media_error("no_token", "this number has no access token")}
        token = self._tokens.read(connection.access_token_secret_id)
        try:
            return self._from_meta(job, media, connection.phone_number_id, token)
        except UpstreamError as exc:
            ending = _graph_ending(exc)
            if ending is None:
                raise
            return ending

    def _from_meta(
        self, job: MediaJob, media: dict[str, Any], phone_number_id: str, token: str
    ) -> tuple[MediaState, dict[str, Any]]:
        for attempt in range(1, URL_ATTEMPTS + 1):
            info = self._source.media_info(job.media_id, phone_number_id, token)
            if info.file_size is not None and info.file_size > self._max_bytes:
                return MediaState.TOO_LARGE, {"error": _too_large(info.file_size, self._max_bytes)}
            if not self._hosts.allows(info.url):
                host = urlsplit(info.url).hostname or "?"
                return MediaState.FAILED, {"error": media_error("untrusted_media_host", f"not fetched from {host}")}
            try:
                return MediaState.STORED, self._keep(job, media, info, token)
            except MediaUrlGoneError:
                if attempt == URL_ATTEMPTS:
                    raise TransientError("the media URL kept answering 404") from None
            except FileTooLargeError:
                return MediaState.TOO_LARGE, {"error": _too_large(None, self._max_bytes)}
        raise AssertionError("unreachable")  # pragma: no cover

    def _keep(self, job: MediaJob, media: dict[str, Any], info: MediaInfo, token: str) -> dict[str, Any]:
        mime_type = media.get("mimeType") or info.mime_type
        key = media_key(job.connection_id, job.wamid)
        with self._source.download(info.url, token) as blocks:
            kept = self._files.put(
                key,
                blocks,
                content_type=served_type(mime_type),
                filename=media.get("filename"),
                max_bytes=self._max_bytes,
            )
        expected = media.get("metaSha256") or info.sha256
        if expected and expected != kept.sha256:
            self._files.delete(key)
            raise TransientError("the file does not match Meta's sha256")
        return {"mimeType": mime_type, "sha256": kept.sha256, "size": kept.size, "key": kept.key, "error": None}


def _graph_ending(exc: UpstreamError) -> tuple[MediaState, dict[str, Any]] | None:
    """What a Graph refusal means for the file (``None``: it may heal, retry)."""
    if exc.meta_code == EXPIRED_CODE:
        return MediaState.EXPIRED, {"error": media_error("expired", "Meta no longer has this file")}
    if exc.meta_code in TOKEN_CODES or exc.status == 401:
        return MediaState.FAILED, {"error": media_error("token", f"the number's access token was refused: {exc}")}
    if exc.definite:
        return MediaState.FAILED, {"error": _error_of(exc)}
    return None


def _too_large(size: int | None, limit: int) -> dict[str, str]:
    told = f"{size:,} bytes" if size is not None else "more"
    return media_error("too_large", f"{told}; files up to {limit:,} bytes are kept")


def _error_of(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, UpstreamError):
        return media_error(str(exc.meta_code or exc.status or "graph"), str(exc))
    return media_error("download", str(exc))
