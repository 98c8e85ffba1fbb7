"""What a field does when one of its changes kept failing and was dead-lettered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whatrack.domain.connections import HistorySyncStatus
from whatrack.domain.history import CHUNK_FAILED_CODE, ChunkStatus
from whatrack.services.processors.history import record_chunk
from whatrack.webhooks.payloads import HistoryValue
from whatrack.webhooks.skipping import collecting_skipped

if TYPE_CHECKING:
    from whatrack.domain.changes import ChangeMessage
    from whatrack.services.processors.base import InboxPorts


class HistoryDeadLetter:
    """A history change that kept failing: the chunk shows ``failed`` and so does the sync."""

    def __init__(self, ports: InboxPorts) -> None:
        self._ports = ports

    def __call__(self, message: ChangeMessage, value: dict[str, Any] | None, error: str) -> None:
        ports = self._ports
        now = ports.clock()
        item = None
        if value is not None:
            try:
                with collecting_skipped():  # a chunk with an invalid item still names its chunk
                    parsed = HistoryValue.model_validate(value)
                item = next((h for h in parsed.history if h.metadata is not None), None)
            except ValueError:
                item = None
        if item is not None:
            record_chunk(ports, message, item, ChunkStatus.FAILED, now, error)
        text = f"a history change kept failing ({error}); retry it from the archive"
        if ports.sync.stop(message.connection_id, HistorySyncStatus.FAILED, CHUNK_FAILED_CODE, text, now):
            ports.audit.record(message.connection_id, "sync_failed", now, key=f"dlq:{message.log_id}", error=text)
