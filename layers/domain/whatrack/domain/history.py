"""History sync: chunks of past chats, what one chunk imports, and the gaps between chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

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


@dataclass(frozen=True)
class HistoryImportResult:
    new_messages: int
    new_threads: int


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


def chunk_gaps(chunks: list[ChunkRecord]) -> list[tuple[int, int]]:
    """Chunk orders missing inside each phase (between 1 and the highest order seen)."""
    seen: dict[int, set[int]] = {}
    for chunk in chunks:
        seen.setdefault(chunk.phase, set()).add(chunk.chunk_order)
    return [
        (phase, order) for phase in sorted(seen) for order in range(1, max(seen[phase]) + 1) if order not in seen[phase]
    ]


def messages_by_phase(chunks: list[ChunkRecord]) -> dict[str, int]:
    """Messages of the processed chunks, per phase (the completion report)."""
    by_phase: dict[str, int] = {}
    for chunk in chunks:
        if chunk.status is ChunkStatus.PROCESSED:
            by_phase[str(chunk.phase)] = by_phase.get(str(chunk.phase), 0) + chunk.messages
    return by_phase
