"""``media.url`` (CONTRACT §7 Media): a short-lived URL of a stored file, signed with the stack's key.

Only a message its organization may read is ever shown, so another organization never obtains a
URL; whoever serves the bytes (the local stack's front; in AWS the dashboard's CDN) checks the
signature and the end, and answers ``403`` past it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from whatrack.domain.clock import utcnow
from whatrack.domain.media import MediaState, signed_media_url
from whatrack.domain.messages import Media


@dataclass(frozen=True)
class MediaLinks:
    """Short-lived URLs of stored media files (``media.url``), signed with the stack's key."""

    base: str | Callable[[], str]
    """Where the URLs point (``.../media/``), or what reads it the first time a file is shown (in AWS
    the dashboard distribution's, D-44); empty: no URLs."""
    key: Callable[[], str]
    ttl: timedelta
    clock: Callable[[], datetime] = utcnow

    def link(self, media: Media) -> tuple[str | None, datetime | None]:
        if media.state != MediaState.STORED.value or not media.key:
            return None, None
        base = self.base() if callable(self.base) else self.base
        if not base:
            return None, None
        expires = int((self.clock() + self.ttl).timestamp())
        return signed_media_url(base, media.key, expires, self.key()), datetime.fromtimestamp(expires, UTC)
