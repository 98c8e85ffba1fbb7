"""Issue 12: the same onboarding, delivered cleanly and under injected faults, ends in the same state.

Two seeds here, each a quarter of ``make chaos``'s onboarding (``messages=300``: 902 and 461 history
messages for seeds 1 and 2): the same shapes, faults and comparison, sized to finish well inside the
hang guard on a loaded 2-core machine. ``make chaos SEEDS=N`` (scripts/chaos.py) runs the full seeds.
A tenth (120) was tried to save a minute: its contact sync and first live messages then reach their
queues within a second of each other, which found a race on a lead's name (fixed, D-46); the seeds
here stay the size that was identical run after run.
"""

from __future__ import annotations

import pytest

from devstack.server import LocalStack
from tests.chaos.replay import REPLIES, run_seed

pytestmark = [pytest.mark.e2e, pytest.mark.fills_stack]

MESSAGES = 300


# hang guard: a seed takes ~90-120 s on a 2-core machine (two onboardings of ~100-140 deliveries, ~400
# posts with Meta's retries, four replies each); 900 s leaves room for a machine several times slower
@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", [1, 2])
def test_an_onboarding_ends_in_the_same_state_whatever_fails_on_the_way(stack: LocalStack, seed: int) -> None:
    result = run_seed(stack, seed, messages=MESSAGES)
    print(result.line())
    assert result.faults > 0 and result.history_messages > MESSAGES * 0.8, "nothing was tested"
    assert result.graph_faults > 0, "Graph never misbehaved"
    assert result.identical, "\n".join(result.differences)
    # the agent's replies: each sent once (or the runs differ), each shown read, Meta's lost answers included
    assert result.replies == REPLIES and result.replies_read == REPLIES
    # every file Meta held was kept (the follow-ups, the live photo, voice note, document, sticker), the
    # forgotten one expired, the refused one too large: nothing pending, nothing failed
    assert result.files.get("stored", 0) >= 4 and result.files.get("expired") == 1, result.files
    assert result.files.get("too_large") == 1 and not result.files.get("pending") and not result.files.get("failed")
