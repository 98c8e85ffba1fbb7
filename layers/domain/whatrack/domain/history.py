"""History sync: chunks of past chats, what one chunk imports, and the gaps between chunks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from whatrack.domain.identity import ContactIdentity
from whatrack.domain.messages import NewMessage

DECLINED_CODE = "2593109"
"""Meta's error code when the business declined to share its history (§8.5)."""
CHUNK_FAILED_CODE = "chunk_failed"
"""Our error code when a history change kept failing and was dead-lettered (retry from the archive)."""


class ChunkStatus(StrEnum):
    PROCESSED = "processed"
    FAILED = "failed"
    PENDING = "pending"


@dataclass
class ThreadImport:
    """One conversation's share of a history chunk."""

    conversation_id: str
    lead_id: str
    messages: list[NewMessage] = field(default_factory=list)
    counted: bool = False
    """The thread was counted already (an earlier chunk or phase met this customer): its marker is
    not written again. Only a saving: a thread not known as counted is counted at most once anyway."""
    opens_at: datetime | None = None
    """Set for a new customer's conversation, which the import creates (at this time, with the
    thread's last message) in the transaction of its first messages, their count included."""

    @property
    def last_message_at(self) -> datetime | None:
        return max((m.timestamp for m in self.messages), default=None)


def opening_times(threads: Sequence[ThreadImport]) -> dict[str, datetime]:
    """For each lead whose conversation the import opens (``opens_at``), the last message of all its
    threads in the chunk: the new conversation's ``last_message_at``."""
    latest: dict[str, datetime] = {}
    for thread in threads:
        if thread.opens_at is not None:
            at = thread.last_message_at or thread.opens_at
            latest[thread.lead_id] = max(latest.get(thread.lead_id, at), at)
    return latest


@dataclass(frozen=True)
class HistoryImportResult:
    new_messages: int
    new_threads: int


@dataclass(frozen=True)
class ThreadCounterpart:
    """The customer of one thread of a chunk, and the time of the thread's last message."""

    identity: ContactIdentity
    last_message_at: datetime


@dataclass(frozen=True)
class ResolvedThreads:
    """A chunk's counterparts resolved together: each one's lead id, in the order given, or ``None``
    for a counterpart that must go through the one-by-one resolve (its ids reach two leads, or a lead
    in a merge cut short, §8.10)."""

    lead_ids: tuple[str | None, ...]
    created: int = 0
    counted: tuple[bool, ...] = ()
    """Per counterpart, whether its thread on the connection was counted already (seen in the same
    read that found its lead, so it costs no request); empty when none was."""
    opens: tuple[bool, ...] = ()
    """Per counterpart, whether its lead was created here without its conversation on the connection,
    which the import then opens with its first messages (one write instead of a create and a count)."""

    def already_counted(self, index: int) -> bool:
        return index < len(self.counted) and self.counted[index]

    def opens_conversation(self, index: int) -> bool:
        return index < len(self.opens) and self.opens[index]

    @property
    def to_merge(self) -> list[int]:
        return [i for i, lead_id in enumerate(self.lead_ids) if lead_id is None]


def content_hash(value: Any) -> str:
    """The sha256 of a change's value in canonical JSON: the same chunk delivered again has the same hash."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class ChunkRecord:
    """One received chunk, for the gap view (``CONN / CHUNK#phase#order``)."""

    phase: int
    chunk_order: int
    progress: int
    threads: int
    messages: int
    received_at: datetime
    status: ChunkStatus


def missing_orders(seen: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(phase, chunk_order)`` missing inside each phase (between 1 and the highest order seen)."""
    by_phase: dict[int, set[int]] = {}
    for phase, order in seen:
        by_phase.setdefault(phase, set()).add(order)
    return [
        (phase, order)
        for phase in sorted(by_phase)
        for order in range(1, max(by_phase[phase]) + 1)
        if order not in by_phase[phase]
    ]


def chunk_gaps(chunks: list[ChunkRecord]) -> list[tuple[int, int]]:
    """Chunk orders missing inside each phase (between 1 and the highest order seen)."""
    return missing_orders((chunk.phase, chunk.chunk_order) for chunk in chunks)


def messages_by_phase(chunks: list[ChunkRecord]) -> dict[str, int]:
    """Messages of the processed chunks, per phase (the completion report)."""
    by_phase: dict[str, int] = {}
    for chunk in chunks:
        if chunk.status is ChunkStatus.PROCESSED:
            by_phase[str(chunk.phase)] = by_phase.get(str(chunk.phase), 0) + chunk.messages
    return by_phase
