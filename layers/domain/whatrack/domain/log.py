"""The webhook and audit log: one webhook entry per change (and connection) of every signed body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LogStatus(StrEnum):
    RECEIVED = "received"
    ROUTED = "routed"
    PROCESSED = "processed"
    FAILED = "failed"
    REJECTED = "rejected"
    IGNORED = "ignored"
    UNMATCHED = "unmatched"


STATUS_RANK: dict[LogStatus, int] = {
    LogStatus.RECEIVED: 0,
    # transport: where the change is on its way
    LogStatus.ROUTED: 1,
    LogStatus.UNMATCHED: 1,
    # outcomes: what became of it (a later outcome may replace an earlier one: a failed change
    # retried from the archive ends processed)
    LogStatus.IGNORED: 2,
    LogStatus.REJECTED: 2,
    LogStatus.PROCESSED: 2,
    LogStatus.FAILED: 2,
}
"""An entry only moves to a status of equal or higher rank: an outcome outranks every transport
status, so a redelivery that is routed again never hides that the consumer already processed,
rejected (with its reason) or failed the change."""

PENDING_STATUSES = frozenset({LogStatus.RECEIVED, LogStatus.ROUTED, LogStatus.UNMATCHED})
"""Not an outcome yet: an entry in one of these is listed by the reconciler's sparse index until it
reaches ``processed``, ``rejected``, ``failed`` or ``ignored``."""


@dataclass(frozen=True)
class WebhookLogEntry:
    id: str
    at: datetime
    status: LogStatus
    archive_key: str
    entry_index: int
    change_index: int
    field: str | None = None
    event: str | None = None
    error: str | None = None
    connection_id: str | None = None
    organization_id: str | None = None
    phone_number_id: str | None = None
    waba_id: str | None = None
    correlation_id: str | None = None
    """The delivery's request id at ingest (it follows the change when replayed or retried)."""
    event_at: datetime | None = None
    """``entry[].time`` of the change, when Meta sent one."""
    redrives: int = 0
    """How many times the reconciler sent it again because it looked stuck."""

    @property
    def rank(self) -> int:
        return STATUS_RANK[self.status]


class LogKind(StrEnum):
    WEBHOOK = "webhook"
    AUDIT = "audit"


@dataclass(frozen=True)
class LogRecord:
    """A webhook or audit entry of one connection, as the logs view shows it."""

    id: str
    at: datetime
    kind: LogKind
    field: str | None = None
    event: str | None = None
    status: str | None = None
    error: str | None = None
    archive_key: str | None = None
