"""Waiting for what happens in the background (queues draining, a card turning, a log line), the one
way every tier does it.

Every test has a **budget**: its pytest-timeout hang guard (``pyproject.toml`` sets the default, a few
long tests set theirs with ``@pytest.mark.timeout``, each saying why). The guard is there for hangs
only; a wait must never be what trips it. So a wait's deadline is the end of the test's budget less a
margin (:func:`deadline`), unless the caller gives a shorter ``timeout`` because the time itself is
what the test is about. A wait that runs out fails with its own message and the last thing it saw,
never as pytest-timeout's thread dump, and never because a smaller number was guessed for a faster
machine.

Outside pytest (``scripts/chaos.py``, ``python -m tests.chaos.load``) there is no budget: callers pass
``timeout`` themselves, or wait without a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MARGIN_SHARE, MIN_MARGIN_SECONDS = 0.1, 5.0
DEFAULT_INTERVAL_SECONDS = 0.2


@dataclass
class _Budget:
    ends_at: float
    seconds: float


_current: _Budget | None = None


def begin(seconds: float | None) -> None:
    """The running test's budget starts now (``tests/conftest.py`` calls it for every test)."""
    global _current  # noqa: PLW0603 - one test runs at a time in a process (xdist: one per worker)
    _current = None if not seconds else _Budget(time.monotonic() + seconds, seconds)


def end() -> None:
    begin(None)


def remaining(*, margin: bool = True) -> float | None:
    """Seconds left of the test's budget (less the margin kept for failing cleanly), or ``None``."""
    if _current is None:
        return None
    keep = max(MIN_MARGIN_SECONDS, MARGIN_SHARE * _current.seconds) if margin else 0.0
    return max(0.0, _current.ends_at - keep - time.monotonic())


def deadline(timeout: float | None = None) -> float | None:
    """A ``time.monotonic()`` deadline: the earlier of ``timeout`` from now and the budget's end less
    its margin; ``None`` when neither exists (wait for as long as it takes)."""
    candidates = [t for t in (timeout, remaining()) if t is not None]
    return time.monotonic() + min(candidates) if candidates else None


def subprocess_timeout(default: float) -> float:
    """A timeout for a child process: what is left of the budget, or ``default`` outside pytest."""
    left = remaining()
    return default if left is None else max(1.0, left)


class NotYet(AssertionError):
    """A wait ran out of time: its message says what was awaited and what was last seen."""


def wait_until[T](
    condition: Callable[[], T],
    what: str,
    *,
    timeout: float | None = None,
    steady: int = 1,
    interval: float = DEFAULT_INTERVAL_SECONDS,
    seen: Callable[[], object] | None = None,
) -> T:
    """Poll ``condition`` until it is truthy ``steady`` reads in a row; return its last value.

    ``steady`` > 1 is for states that can look settled for a moment (a record between two queues, a
    re-driven change back in a queue). ``seen`` describes the state for the failure message.
    """
    ends = deadline(timeout)
    in_a_row = 0
    while True:
        value = condition()
        in_a_row = in_a_row + 1 if value else 0
        if in_a_row >= steady:
            return value
        if ends is not None and time.monotonic() >= ends:
            state = f"; last seen: {seen()!r}" if seen is not None else ""
            raise NotYet(f"timed out waiting for {what}{state}")
        time.sleep(interval)
