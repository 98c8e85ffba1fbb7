"""EventBridge schedule emulation: every function with a ``Schedule`` event runs every
``WATCHDOG_INTERVAL_SECONDS`` (CONTRACT §2; in AWS the template's ``rate(...)`` applies)."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from devstack.provision import ACCOUNT_ID, REGION
from devstack.runtime import LocalFunction
from devstack.template import resources_of_type

log = logging.getLogger("devstack.schedule")

DEFAULT_INTERVAL_SECONDS = 60.0


def scheduled_event(rule: str) -> dict[str, Any]:
    """The event EventBridge sends a scheduled target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }


class Schedule(threading.Thread):
    def __init__(self, function: LocalFunction, rule: str, interval: float, stop: threading.Event) -> None:
        super().__init__(name=f"schedule-{function.logical_id}", daemon=True)
        self._function = function
        self._rule = rule
        self._interval = interval
        self._halt = stop
        self.runs = 0

    def run(self) -> None:
        while not self._halt.wait(self._interval):
            self.fire()

    def fire(self) -> Any:
        try:
            result = self._function.invoke(scheduled_event(self._rule))
            log.info("%s: %s", self._function.logical_id, result)
            return result
        except Exception:
            log.exception("scheduled run of %s failed", self._function.logical_id)
            return None
        finally:
            self.runs += 1


def build_schedules(
    template: dict[str, Any], functions: dict[str, LocalFunction], interval: float, stop: threading.Event
) -> list[Schedule]:
    schedules = []
    for logical, res in resources_of_type(template, "AWS::Serverless::Function").items():
        for name, event in res["Properties"].get("Events", {}).items():
            if event.get("Type") in ("Schedule", "ScheduleV2"):
                schedules.append(Schedule(functions[logical], f"{logical}{name}", interval, stop))
    return schedules
