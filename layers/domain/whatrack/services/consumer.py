"""Shared consumer side of the queues: resolve a routed change and hand it to its processor."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from whatrack.domain.clock import utcnow
from whatrack.domain.errors import ConfigurationError, DomainError, InvalidInputError, TransientError
from whatrack.domain.log import LogStatus
from whatrack.ports import NoMetrics
from whatrack.webhooks.envelope import locate_value, parse_document, valid_text
from whatrack.webhooks.skipping import collecting_skipped

if TYPE_CHECKING:
    from whatrack.domain.changes import ChangeMessage, WebhookField
    from whatrack.ports import ArchiveStore, MetricsRecorder, WebhookLog
    from whatrack.ports.accounts import InboxChanges
    from whatrack.services.processors.base import ChangeProcessor, DeadLetterHook

logger = Logger(child=True)


class ArchivedChangeMissingError(DomainError):
    """A by-reference change could not be found in its archived body (never heals by retrying)."""

    code = "archived_change_missing"


DEAD_LETTER_ERROR = "kept failing; moved to the dead-letter queue"


class ChangeConsumer:
    """Resolve, process and record the outcome of one routed change.

    Outcomes: ``processed``; ``rejected`` for a change that can never succeed: Meta's data fails
    validation, or the domain refuses it explicitly (a :class:`DomainError` that is not transient),
    acknowledged, not retried, with its reason class (:func:`reason_class`); any other error, a bug
    of ours above all (a ``KeyError`` in a processor), propagates: the record is retried and, after
    ``maxReceiveCount``, dead-lettered (``failed``), and both steps are alarmed.
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
        changes: InboxChanges | None = None,
    ) -> None:
        self._archive = archive
        self._changes = changes
        self._processors = dict(processors)
        self._log = log
        self._dead_letter_hooks = dict(dead_letter_hooks or {})
        self._clock = clock
        self._metrics: MetricsRecorder = metrics or NoMetrics()

    def load_value(self, message: ChangeMessage) -> dict[str, Any]:
        """The change's ``value`` (inline, or read back from the archive: claim check), with any
        lone surrogate replaced, so that what is stored is valid Unicode."""
        value = message.value
        if value is None:
            document, error = parse_document(self._archive.get_raw(message.archive_key))
            if error is not None:  # ingest read only its outline (a large body): the full parse says no
                raise InvalidInputError(f"the archived body cannot be read: {error}")
            value = locate_value(document, message.entry_index, message.change_index)
        if value is None:
            raise ArchivedChangeMissingError(
                f"change {message.entry_index}/{message.change_index} not found in {message.archive_key}"
            )
        cleaned: dict[str, Any] = valid_text(value)
        return cleaned

    def consume(self, message: ChangeMessage, *, expected: Collection[WebhookField] | None = None) -> None:
        processor = self._processors.get(message.field)
        if processor is None or (expected is not None and message.field not in expected):
            raise DomainError(f"this consumer does not handle field {message.field.value!r}")
        try:
            value = self.load_value(message)
        except Exception as exc:
            if not never_heals(exc):
                self._note_attempt(message, exc)
                raise
            self._reject(message, exc)
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
            with collecting_skipped() as skipped:
                processor(message, value)
        except Exception as exc:
            if not never_heals(exc):
                self._note_attempt(message, exc)
                raise
            self._reject(message, exc)
            return
        note = skipped.note()
        if skipped.everything:  # nothing of it was valid: a rejection, with the reasons
            self._reject(message, InvalidChangeError(f"invalid change: {note}"))
            return
        if note is not None:
            logger.warning(
                "change processed without its invalid items", extra={"log_id": message.log_id, "error": note}
            )
            self._metrics.count("ItemsSkipped", len(skipped))
        self._log.set_status(message.log_id, LogStatus.PROCESSED, self._clock(), error=note)
        self._changed(message)
        self._metrics.count("ChangesProcessed")

    def consume_dead_letter(self, message: ChangeMessage) -> None:
        """A change that exhausted its retries: mark it ``failed`` (and let its field react)."""
        try:
            value: dict[str, Any] | None = self.load_value(message)
        except DomainError:
            value = None
        failed = self._log.mark_failed(
            message.log_id,
            self._clock(),
            DEAD_LETTER_ERROR,
            connection_id=message.connection_id,
            field=message.field,
        )
        if not failed:  # already processed or rejected before its last receive: nothing failed
            logger.warning("stale dead letter: the change already has an outcome", extra={"log_id": message.log_id})
            self._changed(message)  # its first try may have stopped between the outcome and the screens
            return
        hook = self._dead_letter_hooks.get(message.field)
        if hook is not None:
            hook(message, value, DEAD_LETTER_ERROR)
        self._changed(message)
        self._metrics.count("ChangesDeadLettered")
        logger.error("change dead-lettered", extra={"field": message.field.value, "log_id": message.log_id})

    def _changed(self, message: ChangeMessage) -> None:
        """Last, once the change's outcome is stored: the number's open screens read it from then on
        (a failure here is retried like any, and the change applied again is the same)."""
        if self._changes is not None:
            self._changes.changed(message.connection_id)

    def _note_attempt(self, message: ChangeMessage, exc: BaseException) -> None:
        """Keep a failed attempt's error on the (still ``routed``) entry: if the change ends in the
        dead-letter queue, its ``failed`` entry says why. Best effort: the store may be what failed."""
        error = f"last attempt failed: {type(exc).__name__}: {str(exc)[:300]}"
        logger.warning("change attempt failed; it will be retried", extra={"log_id": message.log_id, "error": error})
        try:
            self._log.set_status(message.log_id, LogStatus.ROUTED, self._clock(), error=error)
        except Exception:
            logger.exception("could not note the failed attempt", extra={"log_id": message.log_id})

    def _reject(self, message: ChangeMessage, exc: BaseException) -> None:
        error, kind = _reason(exc), reason_class(exc)
        logger.warning("change rejected", extra={"log_id": message.log_id, "error": error, "reason_class": kind})
        self._log.set_status(message.log_id, LogStatus.REJECTED, self._clock(), error=error)
        self._changed(message)
        self._metrics.count("ChangesRejected")
        if kind not in EXPECTED_REJECTIONS:  # a refusal no data of Meta's should cause: alarmed
            logger.error("unexpected rejection", extra={"log_id": message.log_id, "reason_class": kind})
            self._metrics.count("ChangesRejectedUnexpectedly")


class InvalidChangeError(DomainError):
    """Nothing of the change was valid (every item of it was skipped with its reason)."""

    code = "invalid_change"


# Errors of Meta's data, not of the moment: the same change fails the same way on every retry.
# Nothing else is: a TypeError, KeyError or ZeroDivisionError in a processor is a bug of ours, and a
# bug is retried, dead-lettered and alarmed, never filed as bad data.
POISON_ERRORS: tuple[type[BaseException], ...] = (ValidationError, RecursionError)

# Reason classes of the rejections Meta's data can cause; any other is alarmed (a domain refusal a
# processor raised where no data should lead, a change missing from its own archive).
EXPECTED_REJECTIONS = frozenset({"invalid_change", "invalid_input", "rule_violation", "not_found", "conflict"})


def never_heals(exc: BaseException) -> bool:
    """Whether retrying the change can only fail again: a validation error of Meta's data or an
    explicit domain refusal (not a transient fault or a configuration an operator will fix).
    Anything else (AWS, network, a bug) is retried and, in the end, dead-lettered as ``failed``."""
    if isinstance(exc, TransientError | ConfigurationError):
        return False
    return isinstance(exc, (DomainError, *POISON_ERRORS))


def reason_class(exc: BaseException) -> str:
    """The class of a rejection, for logs and alarms: the domain error's code, else ``invalid_change``."""
    return exc.code if isinstance(exc, DomainError) else "invalid_change"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        return "invalid change: " + "; ".join(parts)
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, RecursionError):
        return "invalid change: nested too deeply to process"
    return f"invalid change: {type(exc).__name__}: {str(exc)[:300]}"
