"""The tests' one wait helper, on a fake clock: deadlines come from the test's budget, and a wait that
runs out says what it waited for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import waiting
from tests.conftest import hang_guard


class FakeTime:
    """``time.monotonic`` and ``time.sleep`` for :mod:`tests.waiting`: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTime]:
    fake = FakeTime()
    monkeypatch.setattr(waiting, "time", fake)
    saved = waiting._current
    waiting.end()
    yield fake
    waiting._current = saved


def test_a_condition_must_hold_steady_reads_in_a_row(clock: FakeTime) -> None:
    readings = iter([True, False, True, True, True, False])
    assert waiting.wait_until(lambda: next(readings), "three in a row", steady=3) is True
    assert clock.slept == pytest.approx(4 * waiting.DEFAULT_INTERVAL_SECONDS)


def test_a_wait_ends_at_the_budget_less_its_margin_with_its_own_message(clock: FakeTime) -> None:
    waiting.begin(100)  # the test's hang guard: 100 s, of which 10 s are kept for failing cleanly
    clock.sleep(30)  # setup took 30 s
    with pytest.raises(waiting.NotYet, match=r"the queues to drain; last seen: \{'HistoryQueue': 2\}"):
        waiting.wait_until(lambda: False, "the queues to drain", seen=lambda: {"HistoryQueue": 2})
    assert clock.now == pytest.approx(1090, abs=waiting.DEFAULT_INTERVAL_SECONDS)


def test_a_shorter_timeout_wins_and_no_budget_means_the_timeout_alone(clock: FakeTime) -> None:
    waiting.begin(300)
    with pytest.raises(waiting.NotYet):
        waiting.wait_until(lambda: False, "something quick", timeout=2)
    assert clock.slept == pytest.approx(2, abs=waiting.DEFAULT_INTERVAL_SECONDS)
    waiting.end()
    assert waiting.deadline() is None and waiting.remaining() is None
    assert waiting.deadline(5) == pytest.approx(clock.now + 5)


def test_a_child_process_gets_what_is_left_of_the_budget(clock: FakeTime) -> None:
    assert waiting.subprocess_timeout(120) == 120  # outside a test: the caller's default
    waiting.begin(300)
    clock.sleep(100)
    assert waiting.subprocess_timeout(120) == pytest.approx(300 - 100 - 30)
    clock.sleep(500)
    assert waiting.subprocess_timeout(120) == 1.0  # past the budget: fail fast, never a negative timeout


def test_every_test_runs_with_its_hang_guard_as_budget(request: pytest.FixtureRequest) -> None:
    # this very test: the guard pytest-timeout applies to it, started when the test did
    guard = hang_guard(request.node)
    left = waiting.remaining(margin=False)
    assert guard is not None and left is not None and guard - 30 < left <= guard
