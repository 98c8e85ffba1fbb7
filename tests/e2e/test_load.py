"""Issue 12: a bounded load on the local ingest: every body accepted is archived, none refused."""

from __future__ import annotations

import pytest

from devstack.server import LocalStack
from tests.chaos.load import run_load

pytestmark = [pytest.mark.e2e, pytest.mark.fills_stack]


@pytest.mark.timeout(600)  # hang guard: ~45 s on a 2-core machine (120 requests, 3 of ~3 MB, 8 senders)
def test_a_bounded_load_of_mixed_bodies_is_all_accepted_and_archived(stack: LocalStack) -> None:
    result = run_load(stack, requests=120, senders=8)  # no cap: a slow machine sends them all, later
    print(result.line())
    assert result.sent == 120 and result.large >= 3, "the load did not run"
    assert result.answers == {200: result.sent}, result.answers
    assert result.archived == len(result.accepted_keys) > 100
