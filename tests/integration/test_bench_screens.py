"""benchmarks/screens.py (issue 23): what an open screen costs, measured through the status API's handler."""

from __future__ import annotations

import os

import pytest

from benchmarks import screens, suite

SCREEN_KEYS = ["screen_idle_aws_requests_per_minute", "screen_changing_aws_requests_per_minute"]


@pytest.mark.timeout(300)
def test_an_unchanged_screen_costs_one_read_an_ask_and_more_only_when_it_changed() -> None:
    before = dict(os.environ)
    found = screens.measure()
    assert dict(os.environ) == before
    # a 304 is the connection's one read (the key remembered); a changed answer reads the card once too
    assert (found["ask_unchanged"], found["ask_changed"]) == (1, 1)
    for name in ("ticket", "lead", "leads_and_tickets", "details"):
        screen = found[name]
        assert screen["turn_with_news"] > screen["reads_without_ask"] >= 1, name
        assert screen["changing_per_minute"] > screen["idle_per_minute"] > 0, name
    ticket = found["ticket"]
    assert ticket["idle_per_minute"] == 20 * 1 + screens.KEY_READS_PER_MINUTE
    assert found["ticket_before_per_minute"] > ticket["idle_per_minute"]


def test_the_screen_keys_are_issue_keys_with_targets() -> None:
    assert list(suite.SCREEN_TARGETS) == SCREEN_KEYS
    assert list(suite.ALL_TARGETS)[-2:] == SCREEN_KEYS
    assert suite.STEP_KEYS["screens"] == SCREEN_KEYS
    assert suite.entry("screen_idle_aws_requests_per_minute", 22, "t")["pass"]
    assert not suite.entry("screen_idle_aws_requests_per_minute", 26, "t")["pass"]
    assert not suite.entry("screen_changing_aws_requests_per_minute", 101, "t")["pass"]
