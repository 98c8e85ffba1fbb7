"""Ports of the operations."""

from __future__ import annotations

from typing import Protocol


class AlertNotifier(Protocol):
    def notify(self, subject: str, message: str) -> None:
        """Tell the operators (SNS in AWS)."""


class MetricsRecorder(Protocol):
    def count(self, name: str, value: float = 1) -> None:
        """Add ``value`` to the metric ``name`` of this invocation."""

    def seconds(self, name: str, value: float) -> None:
        """Record a duration in seconds."""


class NoMetrics:
    """A :class:`MetricsRecorder` that records nothing (the default where nobody asked for metrics)."""

    def count(self, name: str, value: float = 1) -> None:
        return None

    def seconds(self, name: str, value: float) -> None:
        return None
