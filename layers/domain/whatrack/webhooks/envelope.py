"""Parse a signed webhook body into classified changes.

Tolerant on purpose: the raw body is archived verbatim before this runs, so parsing never loses
data. Each change is judged on its own, so one malformed change does not reject its neighbours:

- ``route``: a known field with the identifiers we need to match a connection;
- ``ignored``: a well-formed body we do not handle (unknown ``object`` or ``field``);
- ``rejected``: not JSON, not an object, wrong shape or types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from enum import StrEnum
from typing import Any

import orjson

from whatrack.domain.changes import WebhookField, known_field
from whatrack.webhooks.outline import outline

WHATSAPP_OBJECT = "whatsapp_business_account"


class Disposition(StrEnum):
    ROUTE = "route"
    IGNORED = "ignored"
    REJECTED = "rejected"


BODY_LEVEL = -1
"""Entry/change index used when the whole body is judged (not JSON, no envelope...)."""


@dataclass(frozen=True)
class ClassifiedChange:
    """One change of a webhook body and what to do with it."""

    entry_index: int
    change_index: int
    disposition: Disposition
    field: str | None = None
    value: dict[str, Any] = dc_field(default_factory=dict)
    waba_id: str | None = None
    event_time: int | None = None
    """``entry[].time`` (unix seconds) when Meta sent a plausible one."""
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    event: str | None = None
    error: str | None = None
    by_reference: bool = False
    """Classified from the body's outline (:func:`classify_large_body`): ``value`` is empty and the
    change travels by reference to the archive."""

    @property
    def webhook_field(self) -> WebhookField:
        return WebhookField(str(self.field))


def _rejected(entry: int, change: int, error: str, **kw: Any) -> ClassifiedChange:
    return ClassifiedChange(entry, change, Disposition.REJECTED, error=error, **kw)


MAX_ID_LENGTH = 64


def _id_string(value: Any) -> str | None:
    """Meta ids are strings of digits; accept ints too (never floats, bools or objects). An id
    becomes a storage key: printable ASCII of a bounded length only."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        return text if len(text) <= MAX_ID_LENGTH and text.isascii() and text.isprintable() else None
    return None


def valid_text(value: Any) -> Any:
    """``value`` with every lone surrogate (half of an emoji: legal in JSON, not in UTF-8) replaced
    by U+FFFD, keys included, so that what is stored is always valid Unicode."""
    if isinstance(value, str):
        return _valid_string(value)
    if isinstance(value, dict):
        return {_valid_string(k) if isinstance(k, str) else k: valid_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [valid_text(v) for v in value]
    return value


def _valid_string(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def describe_event(field_name: WebhookField, value: dict[str, Any]) -> str:
    """A short label for the log: what kind of payload this change carries."""
    if field_name is WebhookField.HISTORY:
        items = value.get("history")
        if isinstance(items, list) and items:
            first = items[0] if isinstance(items[0], dict) else {}
            if first.get("errors"):
                return "history_error"
            meta = first.get("metadata") if isinstance(first.get("metadata"), dict) else {}
            if meta:
                return (
                    f"history_chunk phase={meta.get('phase')} "
                    f"chunk={meta.get('chunk_order')} progress={meta.get('progress')}"
                )
            return "history_chunk"
        if value.get("messages") or value.get("message_echoes"):
            return "history_media"
        return "history"
    if field_name is WebhookField.MESSAGES:
        kinds = [k for k in ("messages", "statuses", "errors") if value.get(k)]
        return "+".join(kinds) or "messages"
    if field_name is WebhookField.ACCOUNT_UPDATE:
        event = value.get("event")
        return str(event) if isinstance(event, str) else "account_update"
    if field_name is WebhookField.STATE_SYNC:
        return "state_sync"
    return "echo"


def _event_time(value: Any) -> int | None:
    """A unix time in seconds between 2001 and 2286 (anything else is not a time Meta sends)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if 1e9 <= value < 1e10 else None


def _classify_change(
    entry_index: int, change_index: int, waba_id: str | None, change: Any, event_time: int | None = None
) -> ClassifiedChange:
    if not isinstance(change, dict):
        return _rejected(entry_index, change_index, "change is not an object", waba_id=waba_id)
    field_name = change.get("field")
    if not isinstance(field_name, str) or not field_name:
        return _rejected(entry_index, change_index, "change.field is missing or not a string", waba_id=waba_id)
    value = change.get("value")
    known = known_field(field_name)
    if known is None:
        return ClassifiedChange(
            entry_index,
            change_index,
            Disposition.IGNORED,
            field=field_name,
            waba_id=waba_id,
            error=f"unknown field {field_name!r}",
        )
    if not isinstance(value, dict):
        return _rejected(
            entry_index, change_index, "change.value is missing or not an object", field=field_name, waba_id=waba_id
        )
    return classify_value(entry_index, change_index, known, value, waba_id, event_time)


def classify_value(
    entry_index: int,
    change_index: int,
    known: WebhookField,
    value: dict[str, Any],
    waba_id: str | None,
    event_time: int | None = None,
) -> ClassifiedChange:
    """Check the identifiers a routed change needs and build its classification."""
    event = describe_event(known, value)
    if known is WebhookField.ACCOUNT_UPDATE:
        # partner-level events name the WABA in value.waba_info, not in entry[].id (CONTRACT §4)
        waba_info = value.get("waba_info")
        waba_id = (_id_string(waba_info.get("waba_id")) if isinstance(waba_info, dict) else None) or waba_id
    common: dict[str, Any] = {"field": known.value, "waba_id": waba_id, "event": event, "event_time": event_time}
    if known is WebhookField.ACCOUNT_UPDATE:
        if waba_id is None:
            return _rejected(entry_index, change_index, "entry.id and value.waba_info.waba_id are missing", **common)
        display = value.get("phone_number")
        if display is not None and _id_string(display) is None:
            return _rejected(entry_index, change_index, "value.phone_number is not a string", **common)
        return ClassifiedChange(
            entry_index,
            change_index,
            Disposition.ROUTE,
            value=value,
            display_phone_number=_id_string(display),
            **common,
        )
    metadata = value.get("metadata")
    if not isinstance(metadata, dict):
        return _rejected(entry_index, change_index, "value.metadata is missing or not an object", **common)
    phone_number_id = _id_string(metadata.get("phone_number_id"))
    if phone_number_id is None:
        return _rejected(
            entry_index, change_index, "value.metadata.phone_number_id is missing or not a string", **common
        )
    display = metadata.get("display_phone_number")
    return ClassifiedChange(
        entry_index,
        change_index,
        Disposition.ROUTE,
        value=value,
        phone_number_id=phone_number_id,
        display_phone_number=_id_string(display),
        **common,
    )


def _is_bare_history_value(body: dict[str, Any]) -> bool:
    """Meta documents the declined-history payload as a bare ``value`` (no envelope)."""
    return "object" not in body and "entry" not in body and "history" in body and "metadata" in body


def classify_document(body: Any) -> list[ClassifiedChange]:
    """Classify every change of an already-parsed JSON document."""
    if not isinstance(body, dict):
        return [_rejected(BODY_LEVEL, BODY_LEVEL, f"body must be a JSON object, got {type(body).__name__}")]
    if _is_bare_history_value(body):
        return [classify_value(0, 0, WebhookField.HISTORY, body, None)]
    obj = body.get("object")
    if not isinstance(obj, str):
        return [_rejected(BODY_LEVEL, BODY_LEVEL, "body.object is missing or not a string")]
    if obj != WHATSAPP_OBJECT:
        return [ClassifiedChange(BODY_LEVEL, BODY_LEVEL, Disposition.IGNORED, error=f"unknown object {obj!r}")]
    entries = body.get("entry")
    if not isinstance(entries, list):
        return [_rejected(BODY_LEVEL, BODY_LEVEL, "body.entry is missing or not an array")]
    results: list[ClassifiedChange] = []
    for entry_index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            results.append(_rejected(entry_index, BODY_LEVEL, "entry is not an object"))
            continue
        waba_id = _id_string(entry.get("id"))
        event_time = _event_time(entry.get("time"))
        changes = entry.get("changes")
        if not isinstance(changes, list):
            results.append(
                _rejected(entry_index, BODY_LEVEL, "entry.changes is missing or not an array", waba_id=waba_id)
            )
            continue
        for change_index, change in enumerate(changes):
            results.append(_classify_change(entry_index, change_index, waba_id, change, event_time))
    if not results:
        results.append(ClassifiedChange(BODY_LEVEL, BODY_LEVEL, Disposition.IGNORED, error="body has no changes"))
    return results


def parse_document(raw: bytes) -> tuple[Any, str | None]:
    """``(document, None)`` or ``(None, error)`` for a body that is not JSON.

    orjson parses first (a 3 MB chunk in a fraction of the standard library's time); whatever it
    refuses (a lone surrogate, NaN, an integer past 64 bits, more than 1,024 levels, invalid UTF-8)
    the standard library decides, so what is accepted, and how, is the standard library's."""
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, "body is not valid UTF-8"
    except RecursionError:
        return None, "body is nested too deeply"
    except ValueError as exc:
        return None, f"body is not JSON: {exc}"


def classify_body(raw: bytes) -> list[ClassifiedChange]:
    """Classify every change of a raw webhook body."""
    if not raw.strip():
        return [_rejected(BODY_LEVEL, BODY_LEVEL, "body is empty")]
    document, error = parse_document(raw)
    if error is not None:
        return [_rejected(BODY_LEVEL, BODY_LEVEL, error)]
    return classify_document(document)


def classify_large_body(raw: bytes) -> list[ClassifiedChange]:
    """Classify a body too large for any of its changes to travel in a queue message: from its
    outline when it has one (:mod:`whatrack.webhooks.outline`), each change by reference; else as
    :func:`classify_body` does."""
    document = outline(raw)
    if document is None:
        return classify_body(raw)
    return [replace(change, value={}, by_reference=True) for change in classify_document(document)]


def locate_value(document: Any, entry_index: int, change_index: int) -> dict[str, Any] | None:
    """Find the ``value`` of change ``(entry_index, change_index)`` in a parsed body."""
    if isinstance(document, dict) and _is_bare_history_value(document):
        return document if (entry_index, change_index) == (0, 0) else None
    try:
        value = document["entry"][entry_index]["changes"][change_index]["value"]
    except (KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, dict) else None
