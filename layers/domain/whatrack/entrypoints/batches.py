"""SQS partial batch responses, in a few lines: each record is handled on its own; the ones that fail
are answered in ``batchItemFailures`` (SQS retries them, then dead-letters them), and a batch where
every record failed raises, so the invocation counts as an error (alarmed), as Powertools' batch
utility does. Powertools' utility would load asyncio and its parser models: about 55 ms of each
consumer's cold start (issue 20)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from whatrack.domain.numbers import is_ascii_number


@dataclass(frozen=True)
class QueueRecord[T]:
    message_id: str
    event_source_arn: str | None
    body: T
    receipt_handle: str | None = None
    receive_count: int = 1
    """``ApproximateReceiveCount``: this delivery's number (1 the first time)."""


class AllRecordsFailedError(RuntimeError):
    """Every record of the batch failed: the invocation fails too (SQS retries them all)."""


def partial_batch[T](
    event: dict[str, Any],
    decode: Callable[[str], T],
    handle: Callable[[QueueRecord[T]], None],
    *,
    logger: Logger,
    failed: Callable[[int], None],
) -> dict[str, Any]:
    """Decode and handle each record; ``failed`` is told how many failed before the answer."""
    records = [r for r in event.get("Records") or [] if isinstance(r, dict)]
    failures: list[dict[str, str]] = []
    errors: list[str] = []
    for record in records:
        message_id = str(record.get("messageId") or "")
        try:
            count = str((record.get("attributes") or {}).get("ApproximateReceiveCount") or "1")
            handle(
                QueueRecord(
                    message_id,
                    record.get("eventSourceARN"),
                    decode(str(record.get("body") or "")),
                    receipt_handle=record.get("receiptHandle"),
                    receive_count=int(count) if is_ascii_number(count) else 1,
                )
            )
        except Exception as exc:
            logger.exception("record failed; SQS will deliver it again", extra={"message_id": message_id})
            failures.append({"itemIdentifier": message_id})
            errors.append(f"{type(exc).__name__}: {exc}")
    if failures:
        failed(len(failures))
    if records and len(failures) == len(records):
        raise AllRecordsFailedError(f"all {len(records)} records failed: {'; '.join(errors)[:1000]}")
    return {"batchItemFailures": failures}
