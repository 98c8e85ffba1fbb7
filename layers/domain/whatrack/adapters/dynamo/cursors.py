"""Page cursors of the lists (the last key a page read, opaque to clients, checked on the way back)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from whatrack.domain.errors import InvalidInputError

PHASE = "phase"
"""The part of a two-part list (``?sort=activity``) a cursor is in."""


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, partition_attribute: str, partition: str, *, phased: bool = False
) -> dict[str, Any] | None:
    """The key a page's cursor names; ``phased``: a cursor of a list in two parts (``?sort=activity``,
    which names its part), refused by every other list and the other way round."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("cursor is not valid", code="invalid_cursor") from exc
    valid = (
        isinstance(key, dict)
        and all(isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), str) for v in key.values())
        and key.get(partition_attribute, {}).get("S") == partition
        and (PHASE in key) == phased
    )
    if not valid:
        raise InvalidInputError("cursor does not belong to this list", code="invalid_cursor")
    return dict(key)
