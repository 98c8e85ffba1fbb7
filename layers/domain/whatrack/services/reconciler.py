"""The reconciler: a scheduled sweep that re-drives changes stuck before an outcome.

A webhook log entry not final yet (``received``, ``routed``, ``unmatched``) is listed in a sparse
index by the time of its last move; the sweep reads the entries older than ``stuck_after``, a page
at a time (never the whole table), and for each:

* ``received`` / ``routed`` (the consumer never recorded an outcome: a lost message, a crash between
  steps, a dead letter nobody consumed): sent again from the archive, by reference, to its field's
  queue. After ``max_redrives`` re-drives it is ``failed`` with the reason, listed for the retry.
* ``unmatched`` with a connection now existing for its number (a replay that never ran): routed now.
* ``unmatched`` and still no connection: looked at again after ``stuck_after``.

Each entry is claimed (a conditional write that also moves its index key to now) before it is
sent, so an entry that reached an outcome meanwhile is left alone, and a sweep that fails to send
leaves it to a later sweep. Findings are metrics and one audit entry per connection and sweep.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.changes import ChangeMessage, known_field
from whatrack.domain.clock import iso, utcnow
from whatrack.domain.log import LogStatus
from whatrack.services.replay import KeptChanges

if TYPE_CHECKING:
    from whatrack.domain.log import WebhookLogEntry
    from whatrack.domain.routing import ConnectionTarget
    from whatrack.ports import AuditLog, ChangePublisher, ConnectionDirectory, MetricsRecorder, WebhookLog

logger = Logger(child=True)


@dataclass
class ReconcileReport:
    pages: int = 0
    stuck: int = 0
    redriven: int = 0
    unmatched_routed: int = 0
    unmatched_waiting: int = 0
    given_up: int = 0
    by_connection: Counter[str] = field(default_factory=Counter)
    given_up_by_connection: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return {
            "pages": self.pages,
            "stuck": self.stuck,
            "redriven": self.redriven,
            "unmatchedRouted": self.unmatched_routed,
            "unmatchedWaiting": self.unmatched_waiting,
            "givenUp": self.given_up,
        }


class Reconciler:
    def __init__(
        self,
        *,
        log: WebhookLog,
        directory: ConnectionDirectory,
        publisher: ChangePublisher,
        audit: AuditLog,
        metrics: MetricsRecorder,
        stuck_after: timedelta,
        page_size: int = 100,
        max_pages: int = 20,
        max_redrives: int = 5,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._log = log
        self._directory = directory
        self._publisher = publisher
        self._audit = audit
        self._metrics = metrics
        self._stuck_after = stuck_after
        self._page_size = page_size
        self._max_pages = max_pages
        self._max_redrives = max_redrives
        self._clock = clock
        self._kept = KeptChanges(log, publisher, clock=clock)

    def run(self) -> ReconcileReport:
        report = ReconcileReport()
        now = self._clock()
        targets: dict[str, list[ConnectionTarget]] = {}
        cursor: str | None = None
        try:
            for _ in range(self._max_pages):
                page = self._log.stuck(now - self._stuck_after, limit=self._page_size, cursor=cursor)
                report.pages += 1
                report.stuck += len(page.items)
                self._redrive([e for e in page.items if e.status is not LogStatus.UNMATCHED], now, report)
                self._unmatched([e for e in page.items if e.status is LogStatus.UNMATCHED], now, targets, report)
                cursor = page.next_cursor
                if cursor is None:
                    break
        finally:
            self._report(report, now)
        return report

    # ------------------------------------------------------------------ received / routed
    def _redrive(self, entries: list[WebhookLogEntry], now: datetime, report: ReconcileReport) -> None:
        messages: list[ChangeMessage] = []
        for entry in entries:
            field_ = known_field(entry.field)
            if entry.connection_id is None or entry.organization_id is None or field_ is None:
                continue
            if entry.redrives >= self._max_redrives:
                reason = f"not processed after {entry.redrives} re-drives by the reconciler"
                if self._log.mark_failed(entry.id, now, reason, connection_id=entry.connection_id, field=field_):
                    report.given_up += 1
                    report.given_up_by_connection[entry.connection_id] += 1
                continue
            if not self._log.redriven(entry.id, now, next_check=now):
                continue  # it reached an outcome since the index was read
            messages.append(ChangeMessage.from_archive(entry, field_, entry.connection_id, entry.organization_id))
            report.by_connection[entry.connection_id] += 1
        self._publisher.publish(messages)
        report.redriven += len(messages)

    # ------------------------------------------------------------------ unmatched
    def _unmatched(
        self,
        entries: list[WebhookLogEntry],
        now: datetime,
        targets: dict[str, list[ConnectionTarget]],
        report: ReconcileReport,
    ) -> None:
        by_number: dict[str, list[WebhookLogEntry]] = {}
        for entry in entries:
            if entry.phone_number_id is not None:
                by_number.setdefault(entry.phone_number_id, []).append(entry)
        for number, waiting in by_number.items():
            if number not in targets:
                targets[number] = self._directory.targets_for_phone_number_id(number, consistent=True)
            claimed = [e for e in waiting if self._log.redriven(e.id, now, next_check=now + self._stuck_after)]
            if not targets[number]:
                report.unmatched_waiting += len(claimed)
                continue
            for target in targets[number]:
                routed = self._kept.route(claimed, target)
                report.unmatched_routed += routed
                report.by_connection[target.connection_id] += routed

    # ------------------------------------------------------------------ findings
    def _report(self, report: ReconcileReport, now: datetime) -> None:
        self._metrics.count("StuckChanges", report.stuck)
        self._metrics.count("ChangesRedriven", report.redriven)
        self._metrics.count("UnmatchedRouted", report.unmatched_routed)
        self._metrics.count("UnmatchedWaiting", report.unmatched_waiting)
        self._metrics.count("ChangesGivenUp", report.given_up)
        for connection_id in sorted(set(report.by_connection) | set(report.given_up_by_connection)):
            sent, failed = report.by_connection[connection_id], report.given_up_by_connection[connection_id]
            gave_up = f"{failed} change(s) still not processed after {self._max_redrives} re-drives"
            self._audit.record(
                connection_id,
                "changes_redriven",
                now,
                key=f"reconcile:{iso(now)}",
                status=f"{sent} stuck change(s) sent again, {failed} marked failed",
                error=gave_up if failed else None,
            )
        logger.info("reconciler sweep", extra=report.as_dict())
