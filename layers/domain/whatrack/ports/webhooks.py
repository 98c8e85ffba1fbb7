"""Ports of the webhook path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from whatrack.domain.changes import ChangeMessage, ReplayJob, WebhookField
from whatrack.domain.log import LogStatus, WebhookLogEntry
from whatrack.domain.paging import Page
from whatrack.domain.routing import ConnectionTarget


class ArchiveStore(Protocol):
    def put_raw(self, raw: bytes, *, received_at: datetime) -> str:
        """Store ``raw`` under a content-addressed key and return the key (idempotent)."""

    def get_raw(self, key: str) -> bytes:
        """Read an archived body back."""


class ChangePublisher(Protocol):
    def publish(self, messages: Sequence[ChangeMessage]) -> None:
        """Send each message to its field's queue; raise if any could not be sent."""


class WebhookSecrets(Protocol):
    def app_secret(self) -> str: ...

    def verify_token(self) -> str: ...


class ReplayJobQueue(Protocol):
    def enqueue(self, job: ReplayJob) -> None:
        """Queue a replay of a connection's kept changes (run by the replay function); raise if not queued."""


class ConnectionDirectory(Protocol):
    """Ingest's read side: which connection(s) a change belongs to."""

    def targets_for_phone_number_id(self, phone_number_id: str, *, consistent: bool = False) -> list[ConnectionTarget]:
        """``consistent``: a strongly consistent read (sees a connection created a moment ago)."""

    def targets_for_waba(self, waba_id: str, display_phone_number: str | None) -> list[ConnectionTarget]: ...


class WebhookLog(Protocol):
    def record(self, entries: Sequence[WebhookLogEntry]) -> None:
        """Write entries; an entry never moves back to an earlier status."""

    def set_status(self, log_id: str, status: LogStatus, at: datetime, error: str | None = None) -> bool:
        """A consumer's outcome for an existing entry (never moves it back)."""

    def unsent(self, log_ids: Sequence[str], at: datetime) -> None:
        """Entries recorded ``routed`` whose queue refused their messages go back to ``received``;
        an entry no longer ``routed`` (a consumer reached an outcome) is left as it is."""

    def unmatched(self, phone_number_id: str, *, limit: int = 100, cursor: str | None = None) -> Page[WebhookLogEntry]:
        """One page of the changes kept for a number that had no connection yet (a strongly
        consistent read: an entry recorded before the call is listed)."""

    def attach(self, log_id: str, target: ConnectionTarget, at: datetime | None = None) -> bool:
        """An unmatched entry now belongs to ``target`` and is ``routed`` (sent at ``at``)."""

    def release(self, phone_number_id: str, log_id: str) -> None:
        """The change is no longer kept for the number (it was routed); idempotent."""

    def stuck(self, before: datetime, *, limit: int, cursor: str | None = None) -> Page[WebhookLogEntry]:
        """One page of the entries not final yet (``received``, ``routed``, ``unmatched``) whose last
        move (or last re-drive) is older than ``before``: a query of a sparse index, never a scan."""

    def redriven(self, log_id: str, at: datetime, *, next_check: datetime) -> bool:
        """Claim a stuck entry's re-drive: True (and not listed by :meth:`stuck` before
        ``next_check``) when it is still not final, False when it reached an outcome meanwhile."""

    def of_connection(
        self, connection_id: str, start: datetime, end: datetime, *, limit: int, cursor: str | None = None
    ) -> Page[WebhookLogEntry]:
        """One page of the connection's webhook entries first received in ``[start, end]``, oldest first."""

    def mark_failed(self, log_id: str, at: datetime, error: str, *, connection_id: str, field: WebhookField) -> bool:
        """A change that kept failing: ``failed`` with its reason (the last attempt's error when one
        was noted by :meth:`set_status`, else ``error``), listed by :meth:`failed` until retried.
        An entry already ``processed`` or ``rejected`` stays so."""

    def failed(self, connection_id: str, field: WebhookField) -> list[WebhookLogEntry]:
        """This connection's entries of ``field`` that ended ``failed``, oldest first."""

    def retry(self, log_id: str, at: datetime) -> bool:
        """A ``failed`` entry is ``routed`` again (its change is being re-sent); True on that move."""
