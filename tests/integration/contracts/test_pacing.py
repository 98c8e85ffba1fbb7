"""Port contract: a number's send pace (Meta's throughput): distinct slots one interval apart, no burst
after idle time, nothing taken past the pace's wait, numbers apart."""

from __future__ import annotations

import threading

import pytest

from tests.integration.contracts.support import CONTRACT_PACE, Ports, unique_number

T = 2_000_000_000.0  # epoch seconds; each test its own number
STEP = CONTRACT_PACE.interval


def test_sends_of_one_number_take_slots_one_interval_apart_and_other_numbers_do_not_wait(ports: Ports) -> None:
    # Given a number that never sent, and another
    number, other = unique_number("3099"), unique_number("3099")
    # When three sends ask for a slot at the same moment, and one of the other number
    starts = [ports.pacer.reserve(number, T) for _ in range(3)]
    # Then the first goes now, the next ones an interval apart; the other number goes now
    assert starts == pytest.approx([T, T + STEP, T + 2 * STEP])
    assert ports.pacer.reserve(other, T) == pytest.approx(T)
    assert ports.pacer.next_free(number, T) == pytest.approx(T + 3 * STEP)


def test_an_idle_number_starts_again_now_without_a_burst(ports: Ports) -> None:
    # Given a number that sent long ago
    number = unique_number("3099")
    ports.pacer.reserve(number, T)
    # When it sends again ten seconds later, twice
    later = [ports.pacer.reserve(number, T + 10) for _ in range(2)]
    # Then the first goes at once and the second still an interval after it: idle time is no credit
    assert later == pytest.approx([T + 10, T + 10 + STEP])


def test_a_slot_further_than_the_wait_is_not_taken(ports: Ports) -> None:
    # Given a number whose slots are taken up to its wait (1 s: ten of them, and the one at 1 s)
    number = unique_number("3099")
    taken = [ports.pacer.reserve(number, T) for _ in range(11)]
    assert taken[-1] == pytest.approx(T + 1.0)
    # When one more asks, it gets none, and nothing moves
    assert ports.pacer.reserve(number, T) is None
    assert ports.pacer.next_free(number, T) == pytest.approx(T + 11 * STEP)
    # Then, as time passes, the next one is taken after the last
    assert ports.pacer.reserve(number, T + 0.5) == pytest.approx(T + 11 * STEP)


def test_concurrent_senders_take_distinct_slots(ports: Ports) -> None:
    # Given eight senders of one number asking at the same moment
    number = unique_number("3099")
    starts: list[float | None] = []
    lock = threading.Lock()

    def ask() -> None:
        start = ports.pacer.reserve(number, T)
        with lock:
            starts.append(start)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each took a slot of its own, one interval apart
    assert sorted(s for s in starts if s is not None) == pytest.approx([T + i * STEP for i in range(8)])
