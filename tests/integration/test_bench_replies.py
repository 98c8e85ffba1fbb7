"""Issue 22's reply benchmarks (``benchmarks.replies``) at tiny sizes: the work is done (each reply read,
or accepted, and sent once) and every figure is positive (no timing is asserted); and the suite
records their keys with their targets."""

from __future__ import annotations

import os

import pytest

from benchmarks import replies, suite

REPLY_KEYS = ["reply_aws_requests_per_reply", "reply_send_rate_vs_meta"]


@pytest.mark.timeout(300)
def test_each_reply_measurement_does_its_work_and_answers_positive_figures() -> None:
    before = dict(os.environ)
    with replies.replies_world() as world:
        requests = replies.requests_per_reply(world, replies=2)
        rate = replies.send_rate(world, burst=6, senders=3)
    assert dict(os.environ) == before

    assert requests["replies"] == 2 and len(requests["samples"]) == 2 and requests["aws_per_reply"] > 0
    first = requests["first"]
    assert set(first["by_step"]) == {"post", "send", "statuses"} and all(n > 0 for n in first["by_step"].values())
    assert first["operations"]["send"]["secretsmanager:GetSecretValue"] == 1  # the token, read for the send
    # the key's two reads, counted apart from the reply's own, unless the warm function remembers it
    assert first["operations"]["post"].get("overhead:api key:GetItem", 0) in (0, 2)
    assert requests["with_overhead_per_reply"] > requests["aws_per_reply"] and requests["ingest_per_reply"] > 0
    assert rate["replies"] == 6 and rate["sends_per_second"] > 0 and rate["ratio"] > 0


def test_a_reply_that_does_not_reach_read_fails_the_measurement() -> None:
    with replies.replies_world() as world:
        world.meta.messaging.plan.read = None  # the customer never reads it
        world.patience = 2.0
        with pytest.raises(replies.ReplyBenchError, match="status webhooks"):
            replies.requests_per_reply(world, replies=1)


def test_the_reply_keys_are_issue_keys_with_targets() -> None:
    assert list(suite.REPLY_TARGETS) == REPLY_KEYS
    assert list(suite.ALL_TARGETS)[-4:-2] == REPLY_KEYS
    assert suite.STEP_KEYS["replies"] == REPLY_KEYS
    assert suite.entry("reply_aws_requests_per_reply", 12, "t")["pass"]
    assert not suite.entry("reply_aws_requests_per_reply", 13, "t")["pass"]
    assert suite.entry("reply_send_rate_vs_meta", 0.93, "t")["pass"]
    assert not suite.entry("reply_send_rate_vs_meta", 0.93, "t", errors=["1 sends refused with 130429"])["pass"]
    assert not suite.entry("reply_send_rate_vs_meta", 0.89, "t")["pass"]
