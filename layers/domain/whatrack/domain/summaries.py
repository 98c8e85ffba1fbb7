"""A readable ``body`` for the message types that have none (CONTRACT §7): location, contacts,
interactive and button replies, orders, system notices, unsupported messages.

The summary is neutral data (names, titles, numbers, as Meta sent them); the dashboard adds the
Portuguese wording from the type, and the raw object is kept beside it. A type not listed here (a
future one) gets no summary: it is stored raw and shown as such.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_SUMMARY = 500


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def _joined(*parts: str | None, sep: str = ", ") -> str | None:
    return sep.join(p for p in parts if p) or None


def _location(content: Any) -> str | None:
    if not isinstance(content, dict):
        return None
    latitude, longitude = _text(content.get("latitude")), _text(content.get("longitude"))
    where = f"{latitude}, {longitude}" if latitude and longitude else None
    place = _joined(_text(content.get("name")), _text(content.get("address")))
    return f"{place} ({where})" if place and where else place or where


def _contact(card: Any) -> str | None:
    if not isinstance(card, dict):
        return None
    name = card.get("name")
    formatted = _text(name.get("formatted_name")) if isinstance(name, dict) else None
    phones = card.get("phones")
    phones = phones if isinstance(phones, list) else []
    numbers = [_text(p.get("phone")) or _text(p.get("wa_id")) for p in phones if isinstance(p, dict)]
    shown = _joined(*numbers)
    return f"{formatted} ({shown})" if formatted and shown else formatted or shown


def _contacts(content: Any) -> str | None:
    cards = content if isinstance(content, list) else [content]
    return _joined(*(_contact(card) for card in cards), sep="; ")


def _interactive(content: Any) -> str | None:
    if not isinstance(content, dict):
        return None
    reply = content.get(str(content.get("type")))
    if not isinstance(reply, dict):
        return None
    return _text(reply.get("title")) or _text(reply.get("body")) or _text(reply.get("description"))


def _button(content: Any) -> str | None:
    return _text(content.get("text")) or _text(content.get("payload")) if isinstance(content, dict) else None


def _order(content: Any) -> str | None:
    if not isinstance(content, dict):
        return None
    items = content.get("product_items")
    items = items if isinstance(items, list) else []
    lines = [
        f"{_text(i.get('quantity')) or '1'} x {_text(i.get('product_retailer_id')) or '?'}"
        for i in items
        if isinstance(i, dict)
    ]
    return _joined(_text(content.get("text")), _joined(*lines), sep=": ")


def _system(content: Any) -> str | None:
    return _text(content.get("body")) if isinstance(content, dict) else None


SUMMARIES: dict[str, Callable[[Any], str | None]] = {
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "order": _order,
    "system": _system,
}
"""The types summarized from their content (``unsupported`` is summarized from its errors)."""
UNSUPPORTED = "unsupported"


def readable_body(kind: str, content: Any, errors: str | None = None) -> str | None:
    """The neutral summary of a message of ``kind`` without a body, or ``None``."""
    if kind == UNSUPPORTED:
        summary = errors
    else:
        summarize = SUMMARIES.get(kind)
        summary = summarize(content) if summarize else None
    return summary[:MAX_SUMMARY] if summary else None
