"""Operations in memory: notifications to operators, metrics, and a clock a test can move."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta


class RecordingNotifier:
    """:class:`whatrack.ports.AlertNotifier`: what would have gone to the alerts topic."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def notify(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))


class RecordingMetrics:
    """:class:`whatrack.ports.MetricsRecorder`: totals by metric name."""

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter()

    def count(self, name: str, value: float = 1) -> None:
        self.totals[name] += value

    def seconds(self, name: str, value: float) -> None:
        self.totals[name] += value


class Clock:
    """A clock a test moves by hand (``clock()`` is the time now)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
