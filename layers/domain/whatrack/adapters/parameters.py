"""SSM Parameter Store: what the template cannot put in a function's environment (D-44).

The status API's ``media.url`` base in AWS is the dashboard distribution's domain; the distribution
reaches the HTTP API, whose routes name the function, so the function's environment cannot name the
distribution (a cycle). The template writes the base into a parameter instead, and the function
reads it the first time it shows a file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from whatrack.adapters.aws import AWS_ERRORS, client, error_code, transient

RETRY_SECONDS = 60.0
"""A parameter not there (yet: the function may run before the stack has written it) is asked for
again after this long, not on every request."""


class SsmParameterText:
    """One parameter's text, read on first use and kept for the execution environment (what it
    holds lives as long as the stack); ``""`` while the parameter does not exist."""

    def __init__(self, name: str, ssm: Any | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._name = name
        self._ssm = ssm
        self._clock = clock
        self._value: str | None = None
        self._missing_at: float | None = None

    def value(self) -> str:
        if self._value is not None:
            return self._value
        if not self._name or (self._missing_at is not None and self._clock() - self._missing_at < RETRY_SECONDS):
            return ""
        try:
            answer = (self._ssm or client("ssm")).get_parameter(Name=self._name)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ParameterNotFound":
                self._missing_at = self._clock()
                return ""
            raise transient("parameter read", exc) from exc
        self._value = str(answer["Parameter"]["Value"])
        return self._value
