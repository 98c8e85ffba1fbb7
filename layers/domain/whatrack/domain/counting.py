"""What storing a message changes besides itself: the counters that move with its insert, and what the
original of a revoked message puts back on its tombstone. The DynamoDB adapter turns these into
conditional writes; the in-memory fakes apply them as they are (one rule, used by both)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from whatrack.domain.media import COUNTED, MediaState
from whatrack.domain.messages import MEDIA_PLACEHOLDER_TYPE, Direction, NewMessage, status_rank


class CountedOn(StrEnum):
    CONVERSATION = "conversation"
    CONNECTION = "connection"


@dataclass(frozen=True)
class Count:
    """``counter`` of ``target`` moves by ``amount``."""

    target: CountedOn
    counter: str
    amount: int = 1


def insert_counts(message: NewMessage, *, history: bool) -> list[Count]:
    """The counters a new message moves: its conversation's message count; for history, the
    connection's imported messages by direction, and its media (a placeholder waits for its media,
    a follow-up stored before its placeholder is that placeholder, filled: §8.8)."""
    counts = [Count(CountedOn.CONVERSATION, "message_count")]
    state = media_state_of(message.media)
    if state in COUNTED:
        counts.append(Count(CountedOn.CONNECTION, files_counter(state)))
    if not history:
        return counts
    direction = "history_inbound" if message.direction is Direction.INBOUND else "history_outbound"
    counts += [Count(CountedOn.CONNECTION, "messages_imported"), Count(CountedOn.CONNECTION, direction)]
    if message.type == MEDIA_PLACEHOLDER_TYPE:
        counts += [Count(CountedOn.CONNECTION, "media_pending"), Count(CountedOn.CONNECTION, "media_placeholders")]
    elif message.media is not None and message.media.get("id"):
        counts.append(Count(CountedOn.CONNECTION, "media_received"))
        if message.filled_placeholder:
            counts.append(Count(CountedOn.CONNECTION, "media_placeholders"))
    return counts


def restored_counts(message: NewMessage) -> list[Count]:
    """What the history original of a message the customer deleted first (a live revoke made its
    tombstone) still counts: the connection's history counters. The conversation counted the
    tombstone already, and its file is never fetched, so never counted (:func:`restored_fields`)."""
    return [
        count
        for count in insert_counts(message, history=True)
        if count.target is CountedOn.CONNECTION and not count.counter.startswith(FILES_PREFIX)
    ]


def media_state_of(media: Any) -> MediaState | None:
    state = media.get("state") if isinstance(media, dict) else None
    return MediaState(state) if isinstance(state, str) and state in MediaState._value2member_map_ else None


FILES_PREFIX = "files_"


def files_counter(state: MediaState) -> str:
    """The connection's count of media files in ``state`` (its card's ``media``)."""
    return f"{FILES_PREFIX}{state.value}"


def media_move(before: MediaState | None, after: MediaState) -> list[Count]:
    """What a media file moving from ``before`` to ``after`` changes in its connection's counts."""
    counts = [Count(CountedOn.CONNECTION, files_counter(after))] if after in COUNTED else []
    if before in COUNTED:
        counts.append(Count(CountedOn.CONNECTION, files_counter(before), -1))
    return counts


def restored_fields(message: NewMessage) -> dict[str, Any]:
    """What the original of a revoke sets on its tombstone: its type, time, content and status (it
    stays deleted, in the tombstone's place in the conversation's order). Only what the original has."""
    fields: dict[str, Any] = {"type": message.type, "timestamp": message.timestamp}
    optional = {
        "body": message.body,
        "content": message.content,
        # a message deleted before it came keeps what Meta said of its file, never fetched nor counted
        "media": {k: v for k, v in message.media.items() if k != "state"} if message.media else None,
        "reply_to_id": message.reply_to_id,
    }
    fields.update({name: value for name, value in optional.items() if value is not None})
    if message.forwarded:
        fields["forwarded"] = True
    if message.status is not None:
        fields["status"], fields["status_rank"] = message.status, status_rank(message.status)
    return fields
