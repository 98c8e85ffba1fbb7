"""Business metrics through Powertools (CloudWatch embedded metric format, flushed per invocation by
the handler's ``log_metrics``; every ``Metrics`` instance of a process shares one metric set)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit


class PowertoolsMetrics:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self._metrics = metrics or Metrics()

    def count(self, name: str, value: float = 1) -> None:
        if value:
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def seconds(self, name: str, value: float) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=value)
