"""Shared consumer side of the queues: resolve a routed change and hand it to its processor."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from whatrack.errors import DomainError
from whatrack.webhooks.envelope import locate_value, parse_document
from whatrack.webhooks.fields import WebhookField

if TYPE_CHECKING:
    from whatrack.ports import ArchiveStore
    from whatrack.queue_messages import ChangeMessage

logger = Logger(child=True)

ChangeProcessor = Callable[["ChangeMessage", dict[str, Any]], None]


class ArchivedChangeMissingError(DomainError):
    """A by-reference change could not be found in its archived body (never heals by retrying)."""

    code = "archived_change_missing"


class ChangeConsumer:
    def __init__(self, archive: ArchiveStore, processors: Mapping[WebhookField, ChangeProcessor]) -> None:
        self._archive = archive
        self._processors = dict(processors)

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
        value = self.load_value(message)
        logger.info(
            "change received",
            extra={
                "field": message.field.value,
                "connection_id": message.connection_id,
                "log_id": message.log_id,
                "by_reference": message.by_reference,
            },
        )
        processor(message, value)
