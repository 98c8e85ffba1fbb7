"""Meta's throughput per number (a Coexistence number sends at most 20 messages a second): every
send of a number takes the next free slot of its pace, a generic cell rate algorithm kept as one
value, the *theoretical arrival time* (``tat``): the end of the latest slot taken.

A send at ``now`` takes the slot starting at ``max(tat, now)``; the new ``tat`` is that start plus
one interval. A number idle for a while (``tat`` in the past) starts again at ``now``: idle time
never turns into a burst. A slot further than ``max_wait`` ahead is not taken: the send waits
outside (its queue's visibility) and asks again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    per_second: float
    """Sends a second; below Meta's 20 by a margin, since a send reaches Meta a moment after its slot."""
    max_wait: float
    """Seconds a send may wait for its slot where it is (inside the function)."""

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


def slot_start(tat: float | None, now: float) -> float:
    """Where the next slot of a number starts: ``now`` if its pace is idle, else the end of its last."""
    return now if tat is None or tat < now else tat
