"""Messages: direction, source, delivery status (§8.4, §8.9) and the shapes we store and show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from whatrack.domain.identity import same_number

REVOKED_TYPE = "revoked"
"""Type of a tombstone kept for a message revoked before it arrived."""
MEDIA_PLACEHOLDER_TYPE = "media_placeholder"
MODELLED_TYPES = frozenset({"text", MEDIA_PLACEHOLDER_TYPE, "image", "video", "audio", "document", "sticker"})
"""Types whose content we map to ``body``/``media``; any other type keeps its raw content."""
REACTION_TYPE = "reaction"
EDIT_TYPE = "edit"
REVOKE_TYPE = "revoke"
ANNOTATION_TYPES = frozenset({REACTION_TYPE, EDIT_TYPE})
"""Types that change their target message and are never a message of their own (CONTRACT §7)."""


class MessageSource(StrEnum):
    LIVE = "live"
    HISTORY = "history"
    APP_ECHO = "app_echo"
    AGENT = "agent"
    """A reply an agent sent from the ticket (CONTRACT §7a)."""


class Direction(StrEnum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


# Delivery states only move forward (§8.9); "failed" is terminal and records its error.
STATUS_RANK: dict[str, int] = {
    "pending": 0,
    "accepted": 0,
    "unknown": 0,
    "sent": 1,
    "delivered": 2,
    "read": 3,
    "played": 4,
    "failed": 5,
}
"""A reply's own states (``pending``, ``accepted``, ``unknown``) rank with ``pending``: any status
Meta sends about it is news."""


def status_rank(status: str | None) -> int:
    return STATUS_RANK.get((status or "").lower(), -1)


def shown_status(
    own: str | None, own_error: str | None, delivery: str | None, delivery_error: str | None
) -> tuple[str | None, str | None]:
    """§8.9: a message's status and error as shown: the higher of the status it was stored with and
    the latest delivery status Meta sent (``statuses[]``, perhaps before the message was stored).

    A tie keeps the message's own, so any order of the status and the insert shows the same."""
    if status_rank(delivery) > status_rank(own):
        return delivery, delivery_error or own_error
    return own, own_error


def status_from_history(history_status: str | None) -> str | None:
    """``history_context.status`` (any case) → our message status."""
    if not history_status:
        return None
    lowered = history_status.lower()
    return "failed" if lowered == "error" else lowered if lowered in STATUS_RANK else None


def direction_of(sender: str | None, business_number: str | None) -> Direction:
    """§8.4: OUTBOUND when ``from`` is the business number, else INBOUND (a missing ``from`` is a customer)."""
    return Direction.OUTBOUND if sender is not None and same_number(sender, business_number) else Direction.INBOUND


@dataclass(frozen=True)
class NewMessage:
    """A message to insert if its (connection, wamid) is not stored yet."""

    wamid: str
    direction: Direction
    source: MessageSource
    type: str
    timestamp: datetime
    body: str | None = None
    status: str | None = None
    history_status: str | None = None
    media: dict[str, Any] | None = None
    meta_confirmed_at: datetime | None = None
    deleted: bool = False
    error: str | None = None
    content: str | None = None
    correlation_id: str | None = None
    """The delivery that stored it (ingest's request id)."""
    filled_placeholder: bool = False
    """A history media follow-up stored before its placeholder (§8.8): it is that placeholder,
    filled, and counts as one; the placeholder, when it comes, only adds its history status."""
    reply_to_id: str | None = None
    """The wamid this message quotes (``context.id``)."""
    forwarded: bool = False
    reply: dict[str, Any] | None = None
    """An agent's reply (its key is its ``clientMessageId``): the request's fingerprint, its template,
    where it goes, and why it failed (``domain.replies``)."""


@dataclass(frozen=True)
class Media:
    """A message's media as kept (CONTRACT §7 Media): what Meta said of it, its state, and once
    ``stored`` our digest, size and object key (never shown: the view turns it into a short-lived URL)."""

    id: str | None
    mime_type: str | None
    caption: str | None
    filename: str | None = None
    voice: bool = False
    animated: bool = False
    state: str | None = None
    sha256: str | None = None
    size: int | None = None
    key: str | None = None
    error: dict[str, str] | None = None

    @classmethod
    def stored(cls, media: Any) -> Media | None:
        """The media kept with a message (the JSON the adapters store), or ``None``."""
        if not isinstance(media, dict) or not media:
            return None
        error = media.get("error")
        size = media.get("size")
        return cls(
            id=media.get("id"),
            mime_type=media.get("mimeType"),
            caption=media.get("caption"),
            filename=media.get("filename"),
            voice=media.get("voice") is True,
            animated=media.get("animated") is True,
            state=media.get("state"),
            sha256=media.get("sha256"),
            size=int(size) if isinstance(size, int | float) else None,
            key=media.get("key"),
            error=error if isinstance(error, dict) else None,
        )


@dataclass(frozen=True)
class ShownReaction:
    emoji: str
    direction: Direction
    at: datetime


@dataclass(frozen=True)
class Version:
    """An earlier content of an edited message: its text (or caption) and since when it was shown."""

    body: str | None
    at: datetime


@dataclass(frozen=True)
class Message:
    """A stored message, as the inbox shows it."""

    id: str
    conversation_id: str
    direction: Direction
    source: MessageSource
    type: str
    timestamp: datetime
    body: str | None = None
    status: str | None = None
    history_status: str | None = None
    media: Media | None = None
    meta_confirmed_at: datetime | None = None
    deleted: bool = False
    error: str | None = None
    content: str | None = None
    correlation_id: str | None = None
    reply_to_id: str | None = None
    forwarded: bool = False
    reactions: tuple[ShownReaction, ...] = ()
    edited_at: datetime | None = None
    edits: tuple[Version, ...] = ()
    reply: dict[str, Any] | None = None
    """An agent's reply: ``id`` is then its ``clientMessageId``; what was asked (its template), and
    why it failed (``domain.replies``)."""
    reply_wamid: str | None = None
    """An agent's reply's wamid, once Meta gave it (its answer, or a status webhook)."""
