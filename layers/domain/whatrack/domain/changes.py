"""Routed changes: the webhook fields we handle, their queues, and the message a queue carries."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Self

import msgspec
import orjson

from whatrack.domain.log import WebhookLogEntry


class WebhookField(StrEnum):
    HISTORY = "history"
    STATE_SYNC = "smb_app_state_sync"
    ECHOES = "smb_message_echoes"
    MESSAGES = "messages"
    ACCOUNT_UPDATE = "account_update"


class QueueName(StrEnum):
    HISTORY = "history"
    CONTACTS = "contacts"
    ECHOES = "echoes"
    LIVE_MESSAGES = "live_messages"
    ACCOUNT_UPDATES = "account_updates"


QUEUE_FOR_FIELD: dict[WebhookField, QueueName] = {
    WebhookField.HISTORY: QueueName.HISTORY,
    WebhookField.STATE_SYNC: QueueName.CONTACTS,
    WebhookField.ECHOES: QueueName.ECHOES,
    WebhookField.MESSAGES: QueueName.LIVE_MESSAGES,
    WebhookField.ACCOUNT_UPDATE: QueueName.ACCOUNT_UPDATES,
}


def known_field(name: str | None) -> WebhookField | None:
    """The field named ``name``, or ``None`` for a field we do not route."""
    return WebhookField(name) if name is not None and name in WebhookField._value2member_map_ else None


def surely_longer_than(value: Any, limit: int) -> bool:
    """Whether ``value`` written as :meth:`ChangeMessage.encode` writes it is surely longer than
    ``limit`` characters, measured with orjson (a 3 MB change in about a millisecond, not the
    standard library's tens): escaping to ASCII only lengthens the UTF-8 text, and the two writers
    differ only in how a float is spelled, by a character or two. ``limit`` should carry a margin
    for that; anything orjson cannot write is not surely anything (False)."""
    try:
        return len(orjson.dumps(value)) > limit
    except (orjson.JSONEncodeError, TypeError):
        return False


class QueueMessage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Our own queue contracts: strict (an unknown field or a wrong type is refused with a
    ``ValueError``), frozen, and light (msgspec: ingest's cold start loads no model library)."""

    def with_changes(self, **changes: Any) -> Self:
        return msgspec.structs.replace(self, **changes)

    def _json(self, **extra: Any) -> str:
        envelope = msgspec.to_builtins(self)
        envelope.update(extra)
        return json.dumps(envelope, ensure_ascii=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def decode(cls, body: str | bytes) -> Self:
        """A queue message body back into a message (the standard library's parser: no depth limit
        below Python's own, lone surrogates kept as they were sent)."""
        return msgspec.convert(json.loads(body), cls)


class ChangeMessage(QueueMessage, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One routed change for one connection: what ``webhook_ingest`` puts on a field's queue.

    ``value`` is ``None`` when the change was too large for a queue message: the consumer then
    reads it from the archived raw body (claim check) at ``archive_key`` / ``entry_index`` /
    ``change_index``.
    """

    version: Literal[1] = 1
    field: WebhookField
    log_id: str
    connection_id: str
    organization_id: str
    archive_key: str
    entry_index: int
    change_index: int
    waba_id: str | None = None
    received_at: datetime
    event_at: datetime | None = None
    """``entry[].time``: when Meta says the change happened (lifecycle events apply in this order)."""
    correlation_id: str | None = None
    """The delivery's request id at ingest: it follows the change into every log line and row."""
    value: dict[str, Any] | None = None

    @property
    def by_reference(self) -> bool:
        return self.value is None

    def encode(self) -> str:
        """The queue message body: compact JSON, ASCII only.

        Any JSON Meta sent can travel this way: a lone surrogate (an emoji cut in half) and the
        noncharacters SQS refuses (U+FFFE, U+FFFF) become ``\\uXXXX`` escapes, and ``value`` is
        written by the standard library, which nests as deep as Python does (pydantic's JSON
        writer stops at 255 levels). Raises ``ValueError`` or ``RecursionError`` for a value that
        cannot be written at all: send it by reference then.
        """
        return msgspec.structs.replace(self, value=None)._json(value=self.value)

    def without_value(self) -> ChangeMessage:
        """The same change, by reference to its archived body."""
        return self.with_changes(value=None)

    @classmethod
    def from_archive(
        cls, entry: WebhookLogEntry, field: WebhookField, connection_id: str, organization_id: str
    ) -> ChangeMessage:
        """A logged change sent (again) by reference to its archived body: a replay or a retry."""
        return cls(
            field=field,
            log_id=entry.id,
            connection_id=connection_id,
            organization_id=organization_id,
            archive_key=entry.archive_key,
            entry_index=entry.entry_index,
            change_index=entry.change_index,
            waba_id=entry.waba_id,
            received_at=entry.at,
            event_at=entry.event_at,
            correlation_id=entry.correlation_id,
            value=None,
        )


class ReplayJob(QueueMessage, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Replay the changes kept ``unmatched`` for a connection's number, one page after another.

    Connection creation (and the reconciler) enqueue one; a job that stops after ``pages`` enqueues
    its continuation with ``cursor``. Any job can be run again: what it already routed is no longer
    kept, and the consumers absorb a change sent twice.
    """

    version: Literal[1] = 1
    connection_id: str
    cursor: str | None = None
    reason: str = "connected"

    def encode(self) -> str:
        return self._json()
