"""The pure rules of message fidelity: what a message shows from its kept reactions and edits (in
any order, with repeats), and the readable summaries of the types without a body (never a crash)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatrack.domain.annotations import Edit, Reaction, latest_of_each, latest_reaction, shown_edits, shown_reactions
from whatrack.domain.messages import Direction
from whatrack.domain.summaries import readable_body

T0 = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)


def edit(wamid: str, minutes: int, body: str) -> Edit:
    return Edit(target="wamid.T", id=wamid, body=body, at=T0 + timedelta(minutes=minutes))


EDITS = [edit("wamid.E1", 1, "v2"), edit("wamid.E2", 2, "v3"), edit("wamid.E0", 2, "v3 too"), edit("wamid.E1", 1, "v2")]


@given(st.permutations(EDITS))
def test_the_shown_text_and_versions_do_not_depend_on_the_order_or_the_repeats(order: list[Edit]) -> None:
    shown = shown_edits("v1", T0, [e.record() for e in order])
    # same time: the wamid decides (E2 after E0), so "v3" is the latest and "v3 too" a version
    assert (shown.body, shown.edited_at) == ("v3", T0 + timedelta(minutes=2))
    assert [v.body for v in shown.versions] == ["v1", "v2", "v3 too"]
    assert shown.versions[0].at == T0


def test_a_message_never_edited_shows_its_own_text() -> None:
    assert shown_edits("v1", T0, []) == shown_edits("v1", T0, ())
    assert shown_edits("v1", T0, []).body == "v1" and shown_edits("v1", T0, []).versions == ()


def like(wamid: str, minutes: int, emoji: str, side: Direction = Direction.INBOUND) -> Reaction:
    return Reaction(target="wamid.T", id=wamid, direction=side, emoji=emoji, at=T0 + timedelta(minutes=minutes))


REACTIONS = [
    like("wamid.X1", 1, "👍"),
    like("wamid.X2", 2, ""),
    like("wamid.X3", 3, "😂"),
    like("wamid.B1", 1, "🙏", Direction.OUTBOUND),
]


@given(st.permutations(REACTIONS))
def test_each_side_shows_its_latest_reaction_whatever_the_order(order: list[Reaction]) -> None:
    kept: dict[Direction, dict[str, Any]] = {}
    for reaction in order:  # as the conditional writes keep them
        if latest_reaction(kept.get(reaction.direction), reaction):
            kept[reaction.direction] = reaction.record()
    shown = [(r.emoji, r.direction) for r in shown_reactions(kept)]
    assert shown == [("😂", Direction.INBOUND), ("🙏", Direction.OUTBOUND)]
    assert {a.id for a in latest_of_each(order)} == {"wamid.X3", "wamid.B1"}


def test_a_removed_reaction_shows_nothing_and_an_older_one_cannot_bring_it_back() -> None:
    kept = {Direction.INBOUND: like("wamid.X2", 2, "").record()}
    assert shown_reactions(kept) == ()
    assert latest_reaction(kept[Direction.INBOUND], like("wamid.X1", 1, "👍")) is False


@pytest.mark.parametrize(
    ("kind", "content", "errors", "expected"),
    [
        ("location", {"latitude": 0, "longitude": 0}, None, "0, 0"),
        ("location", {"name": "Loja"}, None, "Loja"),
        ("location", ["not", "an", "object"], None, None),
        ("contacts", [{"name": {"formatted_name": "Ana"}}, {"phones": [{"wa_id": "5511"}]}], None, "Ana; 5511"),
        ("contacts", {"name": "not an object", "phones": "none"}, None, None),
        ("interactive", {"type": "nfm_reply", "nfm_reply": {"body": "Sent", "name": "flow"}}, None, "Sent"),
        ("interactive", {"type": "button_reply"}, None, None),
        ("button", {"payload": "ONLY_PAYLOAD"}, None, "ONLY_PAYLOAD"),
        ("order", {"product_items": [{"quantity": 3}, "junk"]}, None, "3 x ?"),
        ("order", {"product_items": "none"}, None, None),
        ("system", {"body": "  "}, None, None),
        ("unsupported", None, "Message type unknown", "Message type unknown"),
        ("unsupported", None, None, None),
        ("poll", {"question": "?"}, None, None),
        ("location", {"name": "x" * 2_000}, None, "x" * 500),
    ],
)
def test_summaries_use_what_is_there_and_never_fail_on_odd_content(
    kind: str, content: Any, errors: str | None, expected: str | None
) -> None:
    assert readable_body(kind, content, errors) == expected


@given(
    st.sampled_from(["location", "contacts", "interactive", "button", "order", "system"]),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=12,
    ),
)
def test_a_summary_of_any_json_is_text_or_nothing(kind: str, content: Any) -> None:
    summary = readable_body(kind, content)
    assert summary is None or (isinstance(summary, str) and 0 < len(summary) <= 500)
