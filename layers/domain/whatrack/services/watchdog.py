"""The watchdog: a scheduled round over every connection.

It raises ``no_history_received`` when a number waits for history longer than the stall
threshold and ``stalled`` when a sync gets no new chunk for that long, and clears them when that
is no longer true; each transition is an audit entry, a metric and a notification. The card
derives the same alert on read (:func:`whatrack.domain.connections.sync_alert`), so both agree.
Once a day it also asks Meta whether each number with a token is still on the Business App. And it
sweeps each connection's media (:mod:`whatrack.services.media_sweep`): lost jobs queued again,
placeholders Meta will never complete given up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.clock import iso, utcnow
from whatrack.domain.connections import sync_alert
from whatrack.domain.errors import DomainError
from whatrack.domain.privacy import mask_digits

if TYPE_CHECKING:
    from whatrack.domain.connections import Connection
    from whatrack.ports import AlertNotifier, AuditLog, ConnectionRepository, HistorySyncStore, MetricsRecorder
    from whatrack.services.media_sweep import MediaSweep
    from whatrack.services.number_check import NumberChecker
    from whatrack.services.replies import ReplySweep

logger = Logger(child=True)

CHECK_EVERY = timedelta(days=1)
ALERT_TEXT = {
    "no_history_received": "no history received since the number was connected",
    "stalled": "the history sync received no new chunk",
}


@dataclass
class WatchdogReport:
    connections: int = 0
    raised: list[tuple[str, str]] = field(default_factory=list)
    cleared: list[tuple[str, str]] = field(default_factory=list)
    checked: int = 0
    check_failures: int = 0
    media_requeued: int = 0
    placeholders_given_up: int = 0
    replies_requeued: int = 0
    errors: int = 0


class Watchdog:
    def __init__(
        self,
        *,
        connections: ConnectionRepository,
        sync: HistorySyncStore,
        audit: AuditLog,
        notifier: AlertNotifier,
        metrics: MetricsRecorder,
        numbers: NumberChecker,
        media: MediaSweep,
        replies: ReplySweep,
        stall_after: timedelta,
        check_every: timedelta = CHECK_EVERY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._connections = connections
        self._sync = sync
        self._audit = audit
        self._notifier = notifier
        self._metrics = metrics
        self._numbers = numbers
        self._media = media
        self._replies = replies
        self._stall_after = stall_after
        self._check_every = check_every
        self._clock = clock

    def run(self) -> WatchdogReport:
        report = WatchdogReport()
        now = self._clock()
        for connection in self._connections.all_connections():
            report.connections += 1
            try:
                self._alert(connection, now, report)
                if connection.access_token_secret_id is not None and self._check_due(connection, now):
                    self._check(connection, now, report)
            except DomainError:  # one connection's fault never stops the round
                report.errors += 1
                logger.exception("watchdog failed on a connection", extra={"connection_id": connection.id})
            try:
                swept = self._media.sweep(connection, now)
                report.media_requeued += swept.requeued
                report.placeholders_given_up += swept.given_up
                if connection.access_token_secret_id is not None:  # only a number with a token sends
                    report.replies_requeued += self._replies.sweep(connection.id, now)
            except DomainError:
                report.errors += 1
                logger.exception(
                    "media or replies sweep failed on a connection", extra={"connection_id": connection.id}
                )
        self._metrics.count("StallAlertsRaised", len(report.raised))
        self._metrics.count("StallAlertsCleared", len(report.cleared))
        self._metrics.count("NumberChecks", report.checked)
        self._metrics.count("NumberCheckFailures", report.check_failures)
        self._metrics.count("MediaRequeued", report.media_requeued)
        self._metrics.count("MediaPlaceholdersGivenUp", report.placeholders_given_up)
        self._metrics.count("RepliesRequeued", report.replies_requeued)
        self._metrics.count("WatchdogErrors", report.errors)
        logger.info(
            "watchdog round",
            extra={
                "connections": report.connections,
                "raised": len(report.raised),
                "cleared": len(report.cleared),
                "checked": report.checked,
                "check_failures": report.check_failures,
                "media_requeued": report.media_requeued,
                "placeholders_given_up": report.placeholders_given_up,
                "replies_requeued": report.replies_requeued,
                "errors": report.errors,
            },
        )
        return report

    # ------------------------------------------------------------------ stall alerts
    def _alert(self, connection: Connection, now: datetime, report: WatchdogReport) -> None:
        """Audit and notify first, then store the alert: a failure in between repeats the
        notification next round (at least once) instead of losing it (the audit key is stable)."""
        derived = sync_alert(connection, now, self._stall_after)
        code, since = derived if derived else (None, None)
        if code == connection.alert_code:
            return
        number = mask_digits(connection.display_phone_number or connection.phone_number_id)
        where = f"Connection {connection.id} (organization {connection.organization_id}, number {number})"
        if code is not None and since is not None:
            self._audit.record(
                connection.id,
                "alert_raised",
                now,
                key=f"alert:{code}:{iso(since)}",
                status=code,
                error=ALERT_TEXT[code],
            )
            self._notifier.notify(f"WhaTrack: {code} on {number}", f"{where}: {ALERT_TEXT[code]} since {iso(since)}.")
        else:
            cleared = str(connection.alert_code)
            self._audit.record(
                connection.id,
                "alert_cleared",
                now,
                key=f"alert_cleared:{cleared}:{iso(connection.alert_since)}",
                status=cleared,
            )
            self._notifier.notify(
                f"WhaTrack: {cleared} cleared on {number}", f"{where}: {cleared} cleared at {iso(now)}."
            )
        if not self._sync.set_alert(connection.id, code, since, expected=connection.alert_code):
            return  # another round moved it first
        if code is not None:
            report.raised.append((connection.id, code))
        else:
            report.cleared.append((connection.id, str(connection.alert_code)))

    # ------------------------------------------------------------------ daily number check
    def _check_due(self, connection: Connection, now: datetime) -> bool:
        return connection.last_checked_at is None or now - connection.last_checked_at >= self._check_every

    def _check(self, connection: Connection, now: datetime, report: WatchdogReport) -> None:
        try:
            self._numbers.check_number(connection)
            report.checked += 1
        except DomainError as exc:
            # an uncertain answer never changes the card; the number is asked again tomorrow
            report.check_failures += 1
            self._connections.mark_checked(connection.id, now)
            logger.warning("number check failed", extra={"connection_id": connection.id, "error": exc.message})
