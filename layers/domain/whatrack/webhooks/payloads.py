"""Tolerant models of the routed change values (``meta-webhooks.md`` shapes, odd ones included).

Unknown keys are kept (``extra="allow"``): message content lives under a key named like its
``type``. Empty strings where Meta may omit a value (BSUID rules) are read as missing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from whatrack.domain.identity import ContactIdentity, same_number
from whatrack.domain.media import TOO_LARGE_CODE, normalized_sha256
from whatrack.domain.numbers import is_ascii_number
from whatrack.webhooks.skipping import Items


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _text(value: Any) -> str | None:
    """A text field read from free-form content: a string (not blank) or nothing."""
    value = _blank_to_none(value)
    return value if isinstance(value, str) else None


OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
IdStr = Annotated[str, BeforeValidator(_blank_to_none), Field(min_length=1)]
EARLIEST_TIMESTAMP = 1_230_768_000  # 2009-01-01: before WhatsApp there is no message
LATEST_TIMESTAMP = 4_102_444_800  # 2100-01-01: a millisecond timestamp lands far beyond


def _unix_seconds(value: Any) -> Any:
    """Meta's timestamps: unix seconds, usually as a string. Milliseconds, NaN or a year 2100+
    are refused here (a validation error: the change is rejected with this reason)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    try:
        seconds = int(float(value))
    except (ValueError, OverflowError):
        raise ValueError(f"timestamp {value!r} is not a number of seconds") from None
    if not EARLIEST_TIMESTAMP <= seconds < LATEST_TIMESTAMP:
        raise ValueError(f"timestamp {value!r} is not unix seconds between 2009 and 2100")
    return seconds


UnixTime = Annotated[int, BeforeValidator(_unix_seconds)]


MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class ErrorItem(_Tolerant):
    code: int | str
    title: OptStr = None
    message: OptStr = None
    error_data: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        details = (self.error_data or {}).get("details")
        return str(self.message or self.title or details or f"error {self.code}")


class HistoryContext(_Tolerant):
    status: OptStr = None


def _object_or_none(value: Any) -> Any:
    """Reply context Meta may one day shape otherwise: anything but an object is read as none."""
    return value if isinstance(value, dict) else None


class ReplyContext(_Tolerant):
    """``messages[].context``: the quoted message of a reply, or the forwarded flags."""

    id: Annotated[str | None, BeforeValidator(_text)] = None
    from_: Annotated[str | None, BeforeValidator(_text)] = Field(default=None, alias="from")
    forwarded: bool = False
    frequently_forwarded: bool = False

    @field_validator("forwarded", "frequently_forwarded", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        return value is True or (isinstance(value, str) and value.lower() == "true")


class MessageItem(_Tolerant):
    """A message in a history thread, a media follow-up, a live ``messages[]`` or an echo."""

    id: IdStr
    from_: OptStr = Field(default=None, alias="from")
    from_user_id: OptStr = None
    to: OptStr = None
    to_user_id: OptStr = None
    timestamp: UnixTime
    type: str = "unknown"
    history_context: HistoryContext | None = None
    context: Annotated[ReplyContext | None, BeforeValidator(_object_or_none)] = None
    errors: list[ErrorItem] = []

    def raw(self) -> Any:
        """The content under the key named like the type (an object, or a list for ``contacts``)."""
        return (self.model_extra or {}).get(self.type)

    def content(self) -> dict[str, Any] | None:
        value = self.raw()
        return value if isinstance(value, dict) else None

    @property
    def reply_to_id(self) -> str | None:
        return self.context.id if self.context else None

    @property
    def forwarded(self) -> bool:
        return bool(self.context and (self.context.forwarded or self.context.frequently_forwarded))

    @property
    def errors_text(self) -> str | None:
        return "; ".join(e.text for e in self.errors) or None

    @property
    def body(self) -> str | None:
        content = self.content() or {}
        if self.type == "text":
            return _text(content.get("body"))
        return _text(content.get("caption"))

    @property
    def error_codes(self) -> frozenset[int]:
        return frozenset(int(e.code) for e in self.errors if is_ascii_number(str(e.code)))

    @property
    def media(self) -> dict[str, Any] | None:
        """What Meta says of the file of a media type or a placeholder (``None`` for other types):
        ``{"id", "mimeType", "caption", "filename", "voice", "animated", "metaSha256"}`` (the
        webhook's own short-lived ``url`` is not kept: the download asks Graph for a fresh one); a
        customer file over 100 MB has no id, only the message's error 131052."""
        if self.type == "media_placeholder":
            return {"id": None, "mimeType": None, "caption": None}
        if self.type not in MEDIA_TYPES and TOO_LARGE_CODE not in self.error_codes:
            return None
        content = self.content() or {}
        return {
            "id": _text(content.get("id")),
            "mimeType": _text(content.get("mime_type")),
            "caption": _text(content.get("caption")),
            "filename": _text(content.get("filename")),
            "voice": content.get("voice") is True,
            "animated": content.get("animated") is True,
            "metaSha256": normalized_sha256(content.get("sha256")),
        }

    def raw_content(self) -> str | None:
        """Content of types we do not model (location, contacts, interactive, ...), kept as JSON."""
        content = (self.model_extra or {}).get(self.type)
        return None if content is None else json.dumps(content, ensure_ascii=False, sort_keys=True)


class ThreadContext(_Tolerant):
    wa_id: OptStr = None
    user_id: OptStr = None
    username: OptStr = None


class Thread(_Tolerant):
    id: OptStr = None
    context: ThreadContext | None = None
    messages: Items[MessageItem] = []

    def counterpart(self, business_number: str | None) -> ContactIdentity:
        """The customer of this 1:1 thread (thread id/context, else the customer's own messages)."""
        context = self.context or ThreadContext()
        wa_id = self.id or context.wa_id
        user_id = context.user_id
        for message in self.messages:
            if message.from_ and not same_number(message.from_, business_number):
                wa_id = wa_id or message.from_
                user_id = user_id or message.from_user_id
            elif message.from_ is None and message.from_user_id:
                user_id = user_id or message.from_user_id
        return ContactIdentity.of(wa_id=wa_id, user_id=user_id)


class ChunkMetadata(_Tolerant):
    phase: int = Field(ge=0)
    chunk_order: int = Field(ge=0)
    progress: int = Field(ge=0, le=100)


class HistoryItem(_Tolerant):
    metadata: ChunkMetadata | None = None
    threads: Items[Thread] = []
    errors: list[ErrorItem] = []


class Metadata(_Tolerant):
    display_phone_number: OptStr = None
    phone_number_id: IdStr


class Profile(_Tolerant):
    name: OptStr = None
    username: OptStr = None


class ContactBlock(_Tolerant):
    wa_id: OptStr = None
    user_id: OptStr = None
    profile: Profile | None = None


class HistoryValue(_Tolerant):
    metadata: Metadata
    history: list[HistoryItem] = []
    # media follow-ups: shaped like live traffic, no chunk metadata
    messages: Items[MessageItem] = []
    message_echoes: Items[MessageItem] = []
    contacts: list[ContactBlock] = []


class StateContact(_Tolerant):
    full_name: OptStr = None
    first_name: OptStr = None
    phone_number: OptStr = None
    user_id: OptStr = None
    username: OptStr = None


class StateSyncMetadata(_Tolerant):
    timestamp: UnixTime | None = None
    """When the contact changed (or, per Meta's reference page, when the webhook fired)."""


class StateSyncItem(_Tolerant):
    type: str = "contact"
    contact: StateContact = StateContact()
    action: str
    metadata: StateSyncMetadata | None = None


class StateSyncValue(_Tolerant):
    metadata: Metadata
    state_sync: Items[StateSyncItem] = []


class EchoesValue(_Tolerant):
    metadata: Metadata
    message_echoes: Items[MessageItem] = []
    contacts: list[ContactBlock] = []


class StatusItem(_Tolerant):
    id: IdStr
    status: str
    timestamp: UnixTime
    recipient_id: OptStr = None
    recipient_user_id: OptStr = None
    biz_opaque_callback_data: OptStr = None
    """What we set on a send (our replies: their ``clientMessageId``), echoed by Meta."""
    errors: list[ErrorItem] = []

    @property
    def error_text(self) -> str | None:
        """The failure as shown: each error's code and Meta's words (``131047: Re-engagement message``)."""
        return "; ".join(f"{e.code}: {e.text}" for e in self.errors) or None


class MessagesValue(_Tolerant):
    metadata: Metadata
    contacts: list[ContactBlock] = []
    messages: Items[MessageItem] = []
    statuses: Items[StatusItem] = []
    errors: list[ErrorItem] = []


class AccountUpdateValue(_Tolerant):
    event: str
    phone_number: OptStr = None
    disconnection_info: dict[str, Any] | None = None
