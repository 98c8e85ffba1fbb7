"""Replies from the ticket (CONTRACT §7a, §8.12-8.14): what an agent sends, how it travels, how it ends.

A reply is stored at once, ``pending``, under its ``clientMessageId`` (ours, derived from the ticket
and the client's ``Idempotency-Key``: the same key is the same reply), and goes to Meta through an
outbox, once. Meta's answer gives its wamid (``accepted``); its status webhooks, which carry our
``clientMessageId`` as ``biz_opaque_callback_data``, move it forward in any order. A definite refusal
ends it ``failed`` with Meta's code; an answer that may have been lost ends it ``unknown``, never
sent again by itself (Meta has no idempotency key: a second send is a second message).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from whatrack.domain.changes import QueueMessage
from whatrack.domain.errors import TransientError
from whatrack.domain.ids import stable_id
from whatrack.domain.messages import Message, NewMessage

REPLY_PREFIX = "wtk."
"""Every ``clientMessageId`` starts so: a status webhook whose ``biz_opaque_callback_data`` does is ours."""
MAX_TEXT = 4096
MAX_KEY = 64


class ReplyState(StrEnum):
    """A reply's own state (Meta's statuses come on top: ``sent``, ``delivered``, ``read``, ``failed``)."""

    PENDING = "pending"
    """Accepted by us, on its way to Meta (queued, or being sent)."""
    ACCEPTED = "accepted"
    """Meta answered 200 with its wamid."""
    UNKNOWN = "unknown"
    """The answer may have been lost: perhaps sent, never sent again by itself."""
    FAILED = "failed"
    """Meta refused it for good, or every attempt failed: ``error`` says why."""


@dataclass(frozen=True)
class TemplateRequest:
    name: str
    language: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplyRequest:
    """What the agent asked to send: free text (perhaps quoting a message), or a template."""

    text: str | None = None
    reply_to_id: str | None = None
    preview_url: bool = False
    template: TemplateRequest | None = None

    @property
    def fingerprint(self) -> str:
        """The request's identity: the same ``Idempotency-Key`` with another request is refused."""
        shape: dict[str, Any] = {"text": self.text, "replyToId": self.reply_to_id, "previewUrl": self.preview_url}
        if self.template is not None:
            shape["template"] = [self.template.name, self.template.language, list(self.template.parameters)]
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()

    @property
    def kind(self) -> str:
        return "template" if self.template is not None else "text"


def client_message_id(organization_id: str, ticket_id: str, idempotency_key: str) -> str:
    """Stable per (ticket, key): a retried request finds the reply it made."""
    return REPLY_PREFIX + stable_id("reply", organization_id, ticket_id, idempotency_key)


def is_reply_id(value: str | None) -> bool:
    return bool(value) and str(value).startswith(REPLY_PREFIX)


@dataclass(frozen=True)
class Reply:
    """A reply as kept: what the outbox needs to send it, and where it stands."""

    client_message_id: str
    connection_id: str
    organization_id: str
    conversation_id: str
    request: ReplyRequest
    state: ReplyState
    wamid: str | None = None
    reply_to_wamid: str | None = None
    error: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ReplyJob(QueueMessage, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Send one reply (the outbox's message; one per conversation at a time, in order)."""

    version: int = 1
    connection_id: str
    organization_id: str
    conversation_id: str
    client_message_id: str

    def encode(self) -> str:
        return self._json()


def send_payload(to: str, request: ReplyRequest, client_id: str) -> dict[str, Any]:
    """The body of ``POST /{phone-number-id}/messages`` (Meta's Cloud API)."""
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "biz_opaque_callback_data": client_id,
    }
    if request.reply_to_id:
        payload["context"] = {"message_id": request.reply_to_id}
    if request.template is not None:
        template: dict[str, Any] = {"name": request.template.name, "language": {"code": request.template.language}}
        if request.template.parameters:
            parameters = [{"type": "text", "text": value} for value in request.template.parameters]
            template["components"] = [{"type": "body", "parameters": parameters}]
        payload |= {"type": "template", "template": template}
    else:
        payload |= {"type": "text", "text": {"body": request.text or "", "preview_url": request.preview_url}}
    return payload


def reply_error(code: str | int, message: str) -> dict[str, str]:
    return {"code": str(code), "message": message[:500]}


def reply_record(request: ReplyRequest, to: str) -> dict[str, Any]:
    """What a reply's message keeps of it (``Message.reply``): enough to send it, and to tell a retried
    request from another one with the same key."""
    template = request.template
    return {
        "fingerprint": request.fingerprint,
        "to": to,
        "previewUrl": request.preview_url,
        "template": None
        if template is None
        else {"name": template.name, "language": template.language, "parameters": list(template.parameters)},
        "error": None,
    }


def accepted_message(new: NewMessage, conversation_id: str) -> Message:
    """A reply just stored, as the timeline shows it (the answer to its POST, without reading it back)."""
    return Message(
        id=new.wamid,
        conversation_id=conversation_id,
        direction=new.direction,
        source=new.source,
        type=new.type,
        timestamp=new.timestamp,
        body=new.body,
        status=new.status,
        reply_to_id=new.reply_to_id,
        reply=dict(new.reply) if new.reply is not None else None,
    )


def request_of(record: dict[str, Any], body: str | None, reply_to_id: str | None) -> ReplyRequest:
    """The request a kept reply was made from (its text is the message's body)."""
    template = record.get("template")
    if isinstance(template, dict):
        parameters = tuple(str(p) for p in template.get("parameters") or ())
        asked = TemplateRequest(str(template.get("name")), str(template.get("language")), parameters)
        return ReplyRequest(reply_to_id=reply_to_id, template=asked)
    return ReplyRequest(text=body, reply_to_id=reply_to_id, preview_url=bool(record.get("previewUrl")))


class ReplyHeldError(Exception):
    """The outbox is sending this reply right now (another delivery of its job): try again later."""


PAIR_RATE_CODE = 131056
"""Meta's pair rate limit: about one message every 6 s to the same customer."""
MAX_BACKOFF_SECONDS = 120


def send_backoff(receive_count: int, meta_code: int | None) -> int:
    """How long a send that may heal waits before its next attempt (the queue's visibility, shortened:
    the conversation's next replies wait behind it). Doubling from 2 s; Meta's pair rate, 6 s at least."""
    seconds = min(2 ** max(1, receive_count), MAX_BACKOFF_SECONDS)
    return max(seconds, 6) if meta_code == PAIR_RATE_CODE else seconds


class SendLater(TransientError):
    """A send that may heal (nothing reached Meta): the outbox's handler retries it after
    :func:`send_backoff`, not the queue's whole visibility."""

    def __init__(self, message: str, meta_code: int | None, *, after: int | None = None) -> None:
        super().__init__(message)
        self.meta_code = meta_code
        self.after = after
        """Seconds until it may go (the number's pace says when), instead of the backoff."""
