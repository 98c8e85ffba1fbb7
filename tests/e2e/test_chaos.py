"""Issue 12: the same onboarding, delivered cleanly and under injected faults, ends in the same state.

Two seeds here; ``make chaos SEEDS=N`` runs more (scripts/chaos.py).
"""

from __future__ import annotations

import pytest

from devstack.server import LocalStack
from tests.chaos.replay import run_seed

pytestmark = [pytest.mark.e2e, pytest.mark.fills_stack]


@pytest.mark.parametrize("seed", [1, 2])
def test_an_onboarding_ends_in_the_same_state_whatever_fails_on_the_way(stack: LocalStack, seed: int) -> None:
    result = run_seed(stack, seed)
    print(result.line())
    assert result.faults > 0 and result.history_messages > 1_000, "nothing was tested"
    assert result.identical, "\n".join(result.differences)
