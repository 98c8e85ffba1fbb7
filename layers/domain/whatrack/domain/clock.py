"""Time helpers: every time we store or show is UTC and rendered ISO-8601 with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time, timezone-aware UTC, millisecond precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def iso(value: datetime | None) -> str | None:
    """Render ``value`` as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (``None`` stays ``None``)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_iso(value: str | None) -> datetime | None:
    """Inverse of :func:`iso`; accepts any ISO-8601 string with a zone or ``Z``."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_unix(value: str | int | float) -> datetime:
    """Meta timestamps are unix seconds, usually as strings."""
    return datetime.fromtimestamp(float(value), UTC)
