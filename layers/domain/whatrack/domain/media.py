"""Media kept (CONTRACT §7 Media, §8.11): every file Meta announces is fetched before Meta forgets it.

A media message (live, App echo or history follow-up) is stored with its media ``pending`` and one
download job; the media function moves it to an ending: ``stored``, ``expired``, ``too_large`` or
``failed`` (retryable). A history placeholder waits as ``placeholder`` for its follow-up, or is
``unavailable`` when Meta will never send one. These are the rules; the adapters keep the state on
the message's own key, with the connection's counts in the same transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from whatrack.domain.changes import QueueMessage
from whatrack.domain.clock import parse_iso
from whatrack.domain.numbers import is_ascii_number


class MediaState(StrEnum):
    PLACEHOLDER = "placeholder"
    UNAVAILABLE = "unavailable"
    PENDING = "pending"
    STORED = "stored"
    EXPIRED = "expired"
    TOO_LARGE = "too_large"
    FAILED = "failed"


SHOWN = (
    MediaState.PENDING,
    MediaState.STORED,
    MediaState.FAILED,
    MediaState.EXPIRED,
    MediaState.UNAVAILABLE,
    MediaState.TOO_LARGE,
)
"""The states on a connection's card (its ``media``)."""
COUNTED = (*SHOWN, MediaState.PLACEHOLDER)
"""The states a connection counts: the card's, and the placeholders still waiting for their follow-up
(the watchdog's sweep looks for them only while there are some)."""
LISTED = frozenset({MediaState.PENDING, MediaState.FAILED, MediaState.PLACEHOLDER})
"""States a sweep or a retry looks for, so listed per connection (a sparse index); the others are final."""

MEDIA_ID_LIFETIME = timedelta(days=7)
"""A media id received in a webhook can be downloaded for 7 days (Meta)."""
FOLLOWUP_WINDOW = timedelta(days=14)
"""History media follow-ups come only for media sent in the 14 days before onboarding (Meta)."""
FOLLOWUP_WAIT = timedelta(days=7)
"""A placeholder with no follow-up 7 days after the sync's completion never gets one (CONTRACT §7)."""
TOO_LARGE_CODE = 131052
"""Meta's inbound error for a customer file over 100 MB: no media id comes."""

INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "video/mp4",
        "video/3gpp",
    }
)
"""Meta's image, audio and video types: served inline with their type. Anything else (a "document"
that says it is HTML or SVG included) is served as an attachment of ``application/octet-stream``."""
ATTACHMENT_TYPE = "application/octet-stream"

_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def base_type(mime_type: str | None) -> str:
    """``audio/ogg; codecs=opus`` → ``audio/ogg`` (lower case; empty when unknown)."""
    return (mime_type or "").split(";", 1)[0].strip().lower()


def served_inline(mime_type: str | None) -> bool:
    return base_type(mime_type) in INLINE_TYPES


def served_type(mime_type: str | None) -> str:
    """The ``Content-Type`` a stored file is served with."""
    return (mime_type or "").strip() if served_inline(mime_type) else ATTACHMENT_TYPE


def normalized_sha256(value: Any) -> str | None:
    """Meta's digest, base64 (live webhooks) or hex (history's example), as lower-case hex; ``None``
    for anything that is not a SHA-256 (then there is nothing to check against)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if _HEX.match(text):
        return text.lower()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def initial_state(
    media: dict[str, Any],
    *,
    placeholder: bool,
    timestamp: datetime,
    connection_created_at: datetime,
    error_codes: frozenset[int] = frozenset(),
) -> MediaState:
    """The state a media message is stored with."""
    if placeholder:
        old = timestamp < connection_created_at - FOLLOWUP_WINDOW
        return MediaState.UNAVAILABLE if old else MediaState.PLACEHOLDER
    if TOO_LARGE_CODE in error_codes:
        return MediaState.TOO_LARGE
    return MediaState.PENDING if media.get("id") else MediaState.UNAVAILABLE


def placeholders_given_up(last_history_at: datetime | None, now: datetime) -> bool:
    """A placeholder gets no follow-up 7 days after the sync's completion (CONTRACT §7 Media); a chunk
    that came later (a sync Meta reopened) counts from its own arrival."""
    return last_history_at is not None and now - last_history_at >= FOLLOWUP_WAIT


def listed_since(media: dict[str, Any] | None, fallback: datetime) -> datetime:
    """A file's place in its connection's listing: when Meta announced it (its webhook's arrival), so a
    sweep looks at what has waited long here, not at what was sent long ago."""
    received = parse_iso((media or {}).get("receivedAt"))
    return received or fallback


def expired_by_age(received_at: datetime, now: datetime) -> bool:
    return now - received_at >= MEDIA_ID_LIFETIME


def media_error(code: str, message: str) -> dict[str, str]:
    """The media's ``error`` as shown (``{"code", "message"}``)."""
    return {"code": code, "message": message[:500]}


class MediaJob(QueueMessage, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Download one message's file: what the consumers (and the sweeps, and the retry) put on the
    media queue. The message's key is (connection, wamid); its state says whether there is still
    anything to do, so a job delivered twice downloads once."""

    version: int = 1
    connection_id: str
    organization_id: str
    wamid: str
    media_id: str
    received_at: datetime
    """When Meta announced it (the webhook's arrival): the id lives 7 days from then."""
    retry: int = 0
    """Which retry of the file this job is for (``media.retry``, counted by each retry asked for): a
    dead letter of an older one never fails a file a newer retry is downloading."""

    def encode(self) -> str:
        return self._json()


def media_job_of(
    connection_id: str, organization_id: str, wamid: str, media: dict[str, Any], received_at: datetime
) -> MediaJob | None:
    media_id = media.get("id")
    if not isinstance(media_id, str) or media.get("state") != MediaState.PENDING:
        return None
    return MediaJob(
        connection_id=connection_id,
        organization_id=organization_id,
        wamid=wamid,
        media_id=media_id,
        received_at=received_at,
    )


@dataclass(frozen=True)
class ClaimedMedia:
    """A pending file a download now holds (until its lease ends): what is kept of it."""

    media: dict[str, Any]
    organization_id: str


@dataclass(frozen=True)
class ListedMedia:
    connection_id: str
    organization_id: str
    wamid: str
    media: dict[str, Any]
    since: datetime


def job_of_listed(listed: ListedMedia) -> MediaJob:
    """The download job of a listed file (a retry or a sweep queues it again)."""
    return MediaJob(
        connection_id=listed.connection_id,
        organization_id=listed.organization_id,
        wamid=listed.wamid,
        media_id=str(listed.media.get("id")),
        received_at=parse_iso(listed.media.get("receivedAt")) or listed.since,
        retry=retry_of(listed.media),
    )


def retry_of(media: dict[str, Any]) -> int:
    """How many retries of the file were asked for (0 before the first)."""
    value = media.get("retry")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class MediaInfo:
    """Graph's answer for a media id: a short-lived URL and what Meta knows of the file."""

    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None


class MediaHeldError(Exception):
    """Another download holds the file until its lease ends (it may have died: try again later)."""


class MediaUrlGoneError(Exception):
    """The media URL answered 404 (expired after its 5 minutes, or a glitch): ask Graph for a new one."""


@dataclass(frozen=True)
class KeptFile:
    key: str
    sha256: str
    size: int


class FileTooLargeError(Exception):
    """The stream went past the largest file kept; nothing was stored."""


# ---------------------------------------------------------------- serving (CONTRACT §7 Media: ``media.url``)
def media_signature(key: str, expires: int, secret: str) -> str:
    """What makes ``media.url`` valid: an HMAC of the object key and the URL's end, with a key only
    the stack holds (the status API signs; whoever serves the bytes checks)."""
    return hmac.new(secret.encode(), f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_media_url(base: str, key: str, expires: int, secret: str) -> str:
    return f"{base.rstrip('/')}/{quote(key)}?exp={expires}&sig={media_signature(key, expires, secret)}"


def media_url_valid(key: str, expires: str, signature: str, secret: str, now: datetime) -> bool:
    """A URL is good until its end, and only as signed (a URL past its time answers 403)."""
    if not is_ascii_number(expires) or int(expires) < now.timestamp() or not signature.isascii():
        return False
    return hmac.compare_digest(signature, media_signature(key, int(expires), secret))
