"""Lists latest activity first (``?sort=activity``, CONTRACT §7): one activity index, then the rest.

Leads and tickets are on the activity indexes (``activity1``: ``gsi1pk`` / ``last_message_at``;
``activity2``: ``gsi2pk`` / ``last_message_at``) only once they have a message. A list reads that
index newest first ("active"), then, when it is exhausted, what has never had a message from the
list's own index, newest created first ("rest"). The cursor says which of the two it is in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whatrack.adapters.dynamo.cursors import PHASE, decode_cursor, encode_cursor
from whatrack.domain.errors import InvalidInputError
from whatrack.domain.paging import Page

ACTIVE, REST = "active", "rest"

type Key = dict[str, Any]
type PhaseQuery[T] = Callable[[int, Key | None], tuple[list[T], Key | None]]
"""``(limit, start key or None)`` → the items found and the key to go on from (``None``: the end)."""


def nothing[T](limit: int, start: Key | None) -> tuple[list[T], Key | None]:
    """The rest of a list whose items all have a message (tickets)."""
    return [], None


def activity_page[T](
    partition_attribute: str,
    partition: str,
    *,
    limit: int,
    cursor: str | None,
    active: PhaseQuery[T],
    rest: PhaseQuery[T],
) -> Page[T]:
    """A page of ``active`` then ``rest``: a page that ends the active part is filled from the rest."""
    key = decode_cursor(cursor, partition_attribute, partition, phased=True)
    phase = ACTIVE
    if key is not None:
        phase = str(key.pop(PHASE, {}).get("S"))
        if phase not in (ACTIVE, REST):
            raise InvalidInputError("cursor does not belong to this list", code="invalid_cursor")
        if set(key) == {partition_attribute}:
            key = None  # the start of the rest
    items: list[T] = []
    if phase == ACTIVE:
        items, last = active(limit, key)
        if last is not None:
            return Page(items, _cursor(ACTIVE, last))
        if len(items) >= limit:
            return Page(items, _cursor(REST, {partition_attribute: {"S": partition}}))
        key = None
    more, last = rest(limit - len(items), key)
    listed = {_identity(item) for item in items}  # a lead reached from both parts is listed once
    return Page(items + [item for item in more if _identity(item) not in listed], _cursor(REST, last) if last else None)


def _identity(item: object) -> object:
    return getattr(item, "id", item)


def _cursor(phase: str, key: Key) -> str | None:
    return encode_cursor({**key, PHASE: {"S": phase}})
