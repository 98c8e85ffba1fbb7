"""The outline of a large webhook body: Meta's envelope without the bulk of its changes.

A history chunk is up to 3 MB, nearly all of it ``value.history[].threads``. To classify and route
it, ingest needs only the envelope: ``object``, each entry's ``id`` and ``time``, each change's
``field``, and of its ``value`` the ``metadata``, the account-update fields, the presence of
``messages``/``statuses``/``errors`` and a history item's ``metadata`` or ``errors``. The consumer
reads the whole change from the archive. msgspec decodes the envelope into the structs below and
skips the rest while still checking that it is JSON: about an eighth of a full parse's time, and
hardly any objects for the garbage collector.

A body the outline cannot read as Meta's envelope of one change (a bare history value, several
changes, a change that is not an object, a history that is not a list of objects, NaN, a lone
surrogate, invalid UTF-8, nesting past msgspec's limit...) gives ``None``: the full parse decides
it, as it decides every small body, so what is accepted and how stays the full parse's
(:func:`whatrack.webhooks.envelope.parse_document`). Two oddities inside the skipped bulk pass the
outline and fail the full parse (an integer of more than 4,300 digits; nesting between msgspec's
limit and the standard library's): the consumer's full parse then rejects the change with that
reason (``invalid_input``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType


class _HistoryItem(Struct):
    metadata: Any = UNSET
    errors: Any = UNSET
    # threads: skipped


class _Value(Struct):
    metadata: Any = UNSET
    history: list[_HistoryItem] | UnsetType = UNSET
    messages: Any = UNSET
    message_echoes: Any = UNSET
    statuses: Any = UNSET
    errors: Any = UNSET
    waba_info: Any = UNSET
    phone_number: Any = UNSET
    event: Any = UNSET


class _Change(Struct):
    field: Any = UNSET
    value: _Value | UnsetType = UNSET


class _Entry(Struct):
    id: Any = UNSET
    time: Any = UNSET
    changes: list[_Change] | UnsetType = UNSET


class _Body(Struct):
    object: Any = UNSET
    entry: list[_Entry] | UnsetType = UNSET


_decoder = msgspec.json.Decoder(_Body)


def outline(raw: bytes) -> dict[str, Any] | None:
    """The envelope of a body of one change as plain JSON values (absent keys stay absent), or
    ``None`` when the full parse must decide (a body of several changes included: its small ones
    may travel inline)."""
    try:
        body = _decoder.decode(raw)
        raw.decode("utf-8")  # msgspec does not check the UTF-8 of the strings it skips
        if body.object is UNSET or body.entry is UNSET:
            return None  # Meta's bare history value, or no envelope: the full parse's call
        if sum(len(entry.changes or ()) for entry in body.entry) != 1:
            return None
        document: dict[str, Any] = msgspec.to_builtins(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    return None if _has_wide_int(document) else document


_INT_RANGE = range(-(2**63), 2**64)


def _has_wide_int(document: Any) -> bool:
    """An integer past 64 bits: the full parse reads it as a float, or as an exact integer when one
    overflows a double, so only the full parse can say what it is. (A walk with its own stack: what
    the outline reads may nest as deep as msgspec allows, deeper than Python's recursion.)"""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, int) and not isinstance(value, bool) and value not in _INT_RANGE:
            return True
    return False
