"""Where a change goes: what ingest knows of a connection (no model library: ingest's cold start)."""

from __future__ import annotations

from dataclasses import dataclass

from whatrack.domain.numbers import ASCII_DIGITS


@dataclass(frozen=True)
class ConnectionTarget:
    """What ingest needs to route a change to a connection."""

    connection_id: str
    organization_id: str


def digits_only(value: str | None) -> str | None:
    """The digits of a display number (``+55 11 9…`` and ``5511…`` match); ``None`` when it has none."""
    if value is None:
        return None
    digits = "".join(ch for ch in value if ch in ASCII_DIGITS)
    return digits or None
