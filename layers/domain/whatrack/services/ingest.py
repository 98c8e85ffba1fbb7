"""Webhook ingest: verify, archive, classify, route, log.

Order of operations (each step is what makes the next safe):

1. size check (413) and signature over the raw bytes (401): nothing is stored for these;
2. archive the raw body under a content-addressed key: from here on nothing is lost;
3. classify every change (route / ignored / rejected) and match it to connections;
4. write one webhook-log entry per change and connection (``routed`` before its message is sent);
5. send routed changes to their field's queue (by reference when too large);
6. a change kept ``unmatched`` (no connection for its number): read the phone guard again, strongly,
   and route it ourselves if the connection was created meanwhile (its replay may have looked for
   kept changes before ours was written).

A failure in 2, 4 or 5 raises :class:`TransientError` (HTTP 5xx), so Meta retries; every step
is idempotent, so the retry is harmless.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage, WebhookField, surely_longer_than
from whatrack.domain.clock import from_unix, utcnow
from whatrack.domain.errors import ForbiddenError, PayloadTooLargeError, TransientError, UnauthorizedError
from whatrack.domain.ids import stable_id
from whatrack.domain.log import LogStatus, WebhookLogEntry
from whatrack.domain.routing import ConnectionTarget
from whatrack.services.replay import KeptChanges
from whatrack.webhooks import signature
from whatrack.webhooks.envelope import Disposition, classify_body, classify_large_body

if TYPE_CHECKING:
    from whatrack.ports import ArchiveStore, ChangePublisher, ConnectionDirectory, WebhookLog, WebhookSecrets
    from whatrack.webhooks.envelope import ClassifiedChange

logger = Logger(child=True)

_Lookups = dict[tuple[str, str | None], list[ConnectionTarget]]
"""Directory answers memoized for one body (key: number or WABA, display number)."""


@dataclass
class IngestReport:
    archive_key: str
    entries: list[WebhookLogEntry] = field(default_factory=list)
    messages: list[ChangeMessage] = field(default_factory=list)

    def count(self, status: LogStatus) -> int:
        return sum(1 for e in self.entries if e.status is status)


def log_id_for(archive_key: str, entry_index: int, change_index: int, connection_id: str | None) -> str:
    """Deterministic: a redelivered body updates the same log entries instead of adding new ones."""
    return stable_id(archive_key, entry_index, change_index, connection_id or "")


class IngestService:
    def __init__(
        self,
        *,
        archive: ArchiveStore,
        publisher: ChangePublisher,
        directory: ConnectionDirectory,
        webhook_log: WebhookLog,
        secrets: WebhookSecrets,
        max_body_bytes: int,
        inline_change_limit_bytes: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._archive = archive
        self._publisher = publisher
        self._directory = directory
        self._log = webhook_log
        self._secrets = secrets
        self._max_body_bytes = max_body_bytes
        self._inline_limit = inline_change_limit_bytes
        self._clock = clock
        self._kept = KeptChanges(webhook_log, publisher, clock=clock)

    # ------------------------------------------------------------------ handshake
    def verify_subscription(self, mode: str | None, token: str | None, challenge: str | None) -> str:
        """Meta's GET handshake: echo ``challenge`` when mode and token match."""
        expected = self._secrets.verify_token()
        if (
            mode != "subscribe"
            or token is None
            or challenge is None
            or not hmac.compare_digest(token.encode(), expected.encode())
        ):
            raise ForbiddenError("verification token mismatch")
        return challenge

    # ------------------------------------------------------------------ delivery
    def receive(self, raw: bytes, signature_header: str | None, correlation_id: str | None = None) -> IngestReport:
        if len(raw) > self._max_body_bytes:
            raise PayloadTooLargeError(f"body is larger than {self._max_body_bytes} bytes")
        if not signature.verify(raw, signature_header, self._secrets.app_secret()):
            raise UnauthorizedError("missing or invalid X-Hub-Signature-256")

        received_at = self._clock()
        archive_key = self._archive.put_raw(raw, received_at=received_at)
        report = IngestReport(archive_key=archive_key)
        lookups: _Lookups = {}

        large = len(raw) > self._inline_limit  # no change of it can travel in a queue message
        for change in classify_large_body(raw) if large else classify_body(raw):
            if change.disposition is Disposition.ROUTE:
                self._route(
                    change,
                    archive_key,
                    received_at,
                    report,
                    lookups=lookups,
                    correlation_id=correlation_id,
                )
            else:
                report.entries.append(self._entry(change, archive_key, received_at, LogStatus(change.disposition)))

        if correlation_id is not None:
            report.entries = [replace(e, correlation_id=correlation_id) for e in report.entries]
        # one write per entry, before anything is queued: a consumer always finds its entry and its
        # outcome is the last write. If the queue refuses, the claim is taken back and the answer is
        # a 5xx, so Meta delivers again (and the reconciler re-drives what stays pending).
        self._log.record(report.entries)
        try:
            self._publisher.publish(report.messages)
        except TransientError:
            self._unsent(report)
            raise
        rechecked = self._route_kept(report.entries)
        logger.info(
            "webhook ingested",
            extra={
                "archive_key": archive_key,
                "bytes": len(raw),
                "routed": report.count(LogStatus.ROUTED),
                "unmatched": report.count(LogStatus.UNMATCHED),
                "ignored": report.count(LogStatus.IGNORED),
                "rejected": report.count(LogStatus.REJECTED),
                "routed_after_recheck": rechecked,
            },
        )
        return report

    def _unsent(self, report: IngestReport) -> None:
        """Take back the ``routed`` claim of a body whose messages the queue refused (some may have
        been sent: a consumer's outcome is kept). Best effort: the answer is a 5xx either way."""
        try:
            self._log.unsent([e.id for e in report.entries if e.status is LogStatus.ROUTED], self._clock())
        except Exception:
            logger.exception("could not take back the routed claim", extra={"archive_key": report.archive_key})

    def _route_kept(self, entries: list[WebhookLogEntry]) -> int:
        """Kept changes whose number is connected by now (a strongly consistent read), routed here.

        Ingest writes its kept entry, then reads the guard; connection creation writes the guard,
        then reads the kept entries: whichever comes second sees the other, so the change is routed
        at least once (twice at worst, which the consumers absorb).
        """
        kept: dict[str, list[WebhookLogEntry]] = defaultdict(list)
        for entry in entries:
            if entry.status is LogStatus.UNMATCHED and entry.phone_number_id is not None:
                kept[entry.phone_number_id].append(entry)
        routed = 0
        for number, waiting in kept.items():
            for target in self._directory.targets_for_phone_number_id(number, consistent=True):
                routed += self._kept.route(waiting, target)
        return routed

    def _targets(self, change: ClassifiedChange, lookups: _Lookups) -> list[ConnectionTarget]:
        """Connections of a change; one directory read per distinct number per body."""
        if change.webhook_field is WebhookField.ACCOUNT_UPDATE:
            assert change.waba_id is not None
            key = (f"WABA#{change.waba_id}", change.display_phone_number)
            if key not in lookups:
                lookups[key] = self._directory.targets_for_waba(change.waba_id, change.display_phone_number)
        else:
            assert change.phone_number_id is not None
            key = (change.phone_number_id, None)
            if key not in lookups:
                lookups[key] = self._directory.targets_for_phone_number_id(change.phone_number_id)
        return lookups[key]

    def _route(
        self,
        change: ClassifiedChange,
        archive_key: str,
        received_at: datetime,
        report: IngestReport,
        *,
        lookups: _Lookups,
        correlation_id: str | None,
    ) -> None:
        targets = self._targets(change, lookups)
        if not targets and change.webhook_field is WebhookField.ACCOUNT_UPDATE:
            # Meta reports on every WABA the app is subscribed to; a connection created later starts
            # from its own state, so an update of a WABA we do not serve is final here, not kept
            report.entries.append(
                self._entry(
                    change,
                    archive_key,
                    received_at,
                    LogStatus.IGNORED,
                    error="no connection has this WABA: an account update is not kept",
                )
            )
            return
        if not targets:
            report.entries.append(
                self._entry(
                    change, archive_key, received_at, LogStatus.UNMATCHED, error="no connection for this number"
                )
            )
            return
        for target in targets:
            entry = self._entry(change, archive_key, received_at, LogStatus.ROUTED, target=target)
            report.entries.append(entry)
            message = ChangeMessage(
                field=change.webhook_field,
                log_id=entry.id,
                connection_id=target.connection_id,
                organization_id=target.organization_id,
                archive_key=archive_key,
                entry_index=change.entry_index,
                change_index=change.change_index,
                waba_id=change.waba_id,
                received_at=received_at,
                event_at=from_unix(change.event_time) if change.event_time is not None else None,
                correlation_id=correlation_id,
                value=change.value,
            )
            inline = not change.by_reference and self._fits_inline(message)
            report.messages.append(message if inline else message.without_value())

    def _fits_inline(self, message: ChangeMessage) -> bool:
        """Whether the change travels in its queue message; else by reference to the archive (claim
        check), which any archived body can do."""
        if message.value is not None and surely_longer_than(message.value, 2 * self._inline_limit):
            return False
        try:
            return len(message.encode()) <= self._inline_limit
        except (ValueError, RecursionError):  # not writable as JSON here: the archive has it
            return False

    @staticmethod
    def _entry(
        change: ClassifiedChange,
        archive_key: str,
        received_at: datetime,
        status: LogStatus,
        *,
        target: ConnectionTarget | None = None,
        error: str | None = None,
    ) -> WebhookLogEntry:
        connection_id = target.connection_id if target else None
        return WebhookLogEntry(
            id=log_id_for(archive_key, change.entry_index, change.change_index, connection_id),
            at=received_at,
            status=status,
            archive_key=archive_key,
            entry_index=change.entry_index,
            change_index=change.change_index,
            field=change.field,
            event=change.event,
            error=error or change.error,
            connection_id=connection_id,
            organization_id=target.organization_id if target else None,
            phone_number_id=change.phone_number_id,
            waba_id=change.waba_id,
            event_at=from_unix(change.event_time) if change.event_time is not None else None,
        )
