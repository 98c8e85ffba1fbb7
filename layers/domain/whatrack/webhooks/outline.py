"""The outline of a large webhook body: Meta's envelope without the bulk of its changes.

A history chunk is up to 3 MB, nearly all of it ``value.history[].threads``. To classify and route
it, ingest needs only the envelope: ``object``, each entry's ``id`` and ``time``, each change's
``field``, and of its ``value`` the ``metadata``, the account-update fields, the presence of
``messages``/``statuses``/``errors`` and a history item's ``metadata`` or ``errors``. The consumer
reads the whole change from the archive. msgspec decodes the envelope into the structs below and
skips the rest while still checking that it is JSON: about an eighth of a full parse's time, and
hardly any objects for the garbage collector.

A body the outline cannot read as Meta's envelope (a bare history value, a change that is not an
object, a history that is not a list of objects, NaN, a lone surrogate, invalid UTF-8...) gives
``None``: the full parse decides it, as it decides every small body, so what is accepted and how
stays the full parse's (:func:`whatrack.webhooks.envelope.parse_document`).
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
    """The body's envelope as plain JSON values (absent keys stay absent), or ``None`` when the
    full parse must decide."""
    try:
        body = _decoder.decode(raw)
        raw.decode("utf-8")  # msgspec does not check the UTF-8 of the strings it skips
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    if body.object is UNSET or body.entry is UNSET:
        return None  # Meta's bare history value, or no envelope: the full parse's call
    document: dict[str, Any] = msgspec.to_builtins(body)
    return None if _has_wide_int(document) else document


_INT_RANGE = range(-(2**63), 2**64)


def _has_wide_int(value: Any) -> bool:
    """An integer past 64 bits: the full parse reads it as a float, or as an exact integer when one
    overflows a double, so only the full parse can say what it is."""
    if isinstance(value, dict):
        return any(_has_wide_int(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_wide_int(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool) and value not in _INT_RANGE
