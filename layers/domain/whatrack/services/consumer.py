"""Shared consumer side of the queues: resolve a routed change and hand it to its processor."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from whatrack.domain.changes import ChangeMessage, WebhookField
from whatrack.domain.clock import utcnow
from whatrack.domain.errors import DomainError
from whatrack.domain.log import LogStatus
from whatrack.ports import ArchiveStore, MetricsRecorder, NoMetrics, WebhookLog
from whatrack.services.processors.base import ChangeProcessor, DeadLetterHook
from whatrack.webhooks.envelope import locate_value, parse_document

logger = Logger(child=True)


class ArchivedChangeMissingError(DomainError):
    """A by-reference change could not be found in its archived body (never heals by retrying)."""

    code = "archived_change_missing"


DEAD_LETTER_ERROR = "kept failing; moved to the dead-letter queue"


class ChangeConsumer:
    """Resolve, process and record the outcome of one routed change.

    Outcomes: ``processed``; ``rejected`` for a change that can never succeed (invalid shape,
    missing from its archive): acknowledged, not retried; any other error propagates, so the
    record is retried and, after ``maxReceiveCount``, dead-lettered (``failed``).
    """

    def __init__(
        self,
        archive: ArchiveStore,
        processors: Mapping[WebhookField, ChangeProcessor],
        log: WebhookLog,
        *,
        dead_letter_hooks: Mapping[WebhookField, DeadLetterHook] | None = None,
        clock: Callable[[], datetime] = utcnow,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        self._archive = archive
        self._processors = dict(processors)
        self._log = log
        self._dead_letter_hooks = dict(dead_letter_hooks or {})
        self._clock = clock
        self._metrics: MetricsRecorder = metrics or NoMetrics()

    def load_value(self, message: ChangeMessage) -> dict[str, Any]:
        """The change's ``value``: inline, or read back from the archive (claim check)."""
        if message.value is not None:
            return message.value
        document, error = parse_document(self._archive.get_raw(message.archive_key))
        value = None if error else locate_value(document, message.entry_index, message.change_index)
        if value is None:
            raise ArchivedChangeMissingError(
                f"change {message.entry_index}/{message.change_index} not found in {message.archive_key}"
            )
        return value

    def consume(self, message: ChangeMessage, *, expected: Collection[WebhookField] | None = None) -> None:
        processor = self._processors.get(message.field)
        if processor is None or (expected is not None and message.field not in expected):
            raise DomainError(f"this consumer does not handle field {message.field.value!r}")
        try:
            value = self.load_value(message)
        except ArchivedChangeMissingError as exc:
            self._reject(message, exc.message)
            return
        logger.info(
            "change received",
            extra={
                "field": message.field.value,
                "connection_id": message.connection_id,
                "log_id": message.log_id,
                "by_reference": message.by_reference,
            },
        )
        try:
            processor(message, value)
        except ValidationError as exc:
            self._reject(message, _validation_text(exc))
            return
        self._log.set_status(message.log_id, LogStatus.PROCESSED, self._clock())
        self._metrics.count("ChangesProcessed")

    def consume_dead_letter(self, message: ChangeMessage) -> None:
        """A change that exhausted its retries: mark it ``failed`` (and let its field react)."""
        try:
            value: dict[str, Any] | None = self.load_value(message)
        except DomainError:
            value = None
        self._log.mark_failed(
            message.log_id,
            self._clock(),
            DEAD_LETTER_ERROR,
            connection_id=message.connection_id,
            field=message.field,
        )
        hook = self._dead_letter_hooks.get(message.field)
        if hook is not None:
            hook(message, value, DEAD_LETTER_ERROR)
        self._metrics.count("ChangesDeadLettered")
        logger.error("change dead-lettered", extra={"field": message.field.value, "log_id": message.log_id})

    def _reject(self, message: ChangeMessage, error: str) -> None:
        logger.warning("change rejected", extra={"log_id": message.log_id, "error": error})
        self._log.set_status(message.log_id, LogStatus.REJECTED, self._clock(), error=error)
        self._metrics.count("ChangesRejected")


def _validation_text(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
    return "invalid change: " + "; ".join(parts)
