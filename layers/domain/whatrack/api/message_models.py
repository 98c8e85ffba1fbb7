"""Wire models of a message (CONTRACT §7): its media, reactions, earlier versions and raw content."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from whatrack.api.wire import IsoTime, WireModel


class MediaErrorOut(WireModel):
    code: str
    message: str


class MediaOut(WireModel):
    """CONTRACT §7 Media. ``url`` serves the stored bytes for ``urlExpiresAt`` (``null`` unless ``stored``)."""

    id: str | None
    mime_type: str | None
    caption: str | None
    filename: str | None = None
    voice: bool = False
    animated: bool = False
    state: str | None = None
    sha256: str | None = None
    size: int | None = None
    url: str | None = None
    url_expires_at: IsoTime | None = None
    error: MediaErrorOut | None = None


class ReactionOut(WireModel):
    emoji: str
    direction: Literal["INBOUND", "OUTBOUND"]
    at: IsoTime


class VersionOut(WireModel):
    body: str | None
    at: IsoTime


def _raw_object(value: Any) -> Any:
    """The raw content kept as JSON text → the object Meta sent (text that is not JSON stays text)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class TemplateUsedOut(WireModel):
    name: str
    language: str
    parameters: list[str]


class MessageErrorOut(WireModel):
    code: str
    message: str


class MessageOut(WireModel):
    id: str | None
    """Meta's wamid (``null`` for an agent's reply until Meta gives it)."""
    conversation_id: str
    direction: Literal["INBOUND", "OUTBOUND"]
    source: Literal["live", "history", "app_echo", "agent"]
    type: str
    body: str | None
    timestamp: IsoTime
    status: str | None
    history_status: str | None
    media: MediaOut | None
    meta_confirmed_at: IsoTime | None
    deleted: bool
    reply_to_id: str | None
    forwarded: bool
    reactions: list[ReactionOut]
    edited_at: IsoTime | None
    edits: list[VersionOut]
    content: Annotated[Any, BeforeValidator(_raw_object)] = Field(
        default=None, description="the raw object of a type without a body (location, contacts, ...), as Meta sent it"
    )
    client_message_id: str | None = None
    """Ours, for an agent's reply (its ``biz_opaque_callback_data``); ``null`` otherwise."""
    template: TemplateUsedOut | None = None
    failure: MessageErrorOut | None = Field(default=None, validation_alias="failure", serialization_alias="error")
    """``error`` on the wire: why a message failed (Meta's code and words), ``null`` otherwise."""


class MessageList(WireModel):
    messages: list[MessageOut]
    next_cursor: str | None
    older_cursor: str | None = Field(default=None, description="with latest=1: the page before this one")
