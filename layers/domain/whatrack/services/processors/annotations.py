"""Reactions and edits in Meta's message objects (CONTRACT §7): what each one changes, never a message."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from whatrack.domain.annotations import Edit, Reaction
from whatrack.domain.clock import from_unix
from whatrack.domain.messages import ANNOTATION_TYPES, EDIT_TYPE, REACTION_TYPE
from whatrack.webhooks.skipping import note_skipped

if TYPE_CHECKING:
    from whatrack.domain.annotations import Annotation
    from whatrack.domain.messages import Direction
    from whatrack.webhooks.payloads import MessageItem

logger = Logger(child=True)


class _Unreadable(ValueError):
    """An edit whose new content cannot be read: dropped (and noted), never shown as a blank."""


def _text_of(content: Any) -> str | None:
    """The text of an edit's new content: the body of a text, the caption of anything else (which
    may be gone: a caption removed)."""
    kind = content.get("type") if isinstance(content, dict) else None
    inner = content.get(kind) if isinstance(kind, str) else None
    if not isinstance(inner, dict):
        raise _Unreadable
    value = inner.get("body") if kind == "text" else inner.get("caption")
    if isinstance(value, str):
        return value
    if kind == "text" or value is not None:
        raise _Unreadable
    return None


def annotation_of(item: MessageItem, direction: Direction) -> Annotation | None:
    """A reaction or an edit sent by ``direction``'s side, or ``None`` when ``item`` is neither, names
    no target or carries no readable new text (it is then dropped and noted, never a message)."""
    content = item.content() or {}
    at = from_unix(item.timestamp)
    if item.type == REACTION_TYPE:
        target, emoji = content.get("message_id"), content.get("emoji")
        if isinstance(target, str) and target:
            return Reaction(target, item.id, direction, emoji if isinstance(emoji, str) else "", at)
    elif item.type == EDIT_TYPE:
        target = content.get("original_message_id")
        if isinstance(target, str) and target:
            try:
                return Edit(target, item.id, _text_of(content.get("message")), at)
            except _Unreadable:
                return None
    return None


def annotations_of(items: Iterable[MessageItem], direction: Callable[[MessageItem], Direction]) -> list[Annotation]:
    """The reactions and edits among ``items`` (never messages, never tickets); one naming no
    message, or with no readable new text, is logged and noted in its change's log entry."""
    found: list[Annotation] = []
    for item in items:
        if item.type not in ANNOTATION_TYPES:
            continue
        annotation = annotation_of(item, direction(item))
        if annotation is None:
            logger.warning("unreadable reaction or edit skipped", extra={"wamid": item.id, "type": item.type})
            note_skipped(f"{item.type} {item.id[:64]}: names no message or no readable content")
        else:
            found.append(annotation)
    return found
