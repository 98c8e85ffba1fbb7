"""The time left in the invocation being served (Lambda's ``get_remaining_time_in_millis``).

The entrypoint starts it with the invocation's context; long work (a contact sync of thousands)
asks it before each batch and stops, checkpointed, while there is still time to record that.
"""

from __future__ import annotations

from collections.abc import Callable


class InvocationClock:
    """``remaining_ms()`` is ``None`` outside an invocation (no deadline known: tests, scripts)."""

    def __init__(self) -> None:
        self._remaining: Callable[[], int] | None = None

    def start(self, remaining_ms: Callable[[], int] | None) -> None:
        self._remaining = remaining_ms

    def remaining_ms(self) -> int | None:
        return None if self._remaining is None else self._remaining()
