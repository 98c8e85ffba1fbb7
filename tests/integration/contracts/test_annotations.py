"""Port contract: replies, forwards, reactions and edits kept on their messages (CONTRACT §7), on both
backends: the same shown message whatever the order, the repeats and the size of the call."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from tests.integration.contracts.support import Ports, at, inbox, message, message_count, put, stored
from whatrack.domain.annotations import Annotation, Edit, Reaction
from whatrack.domain.history import ThreadImport
from whatrack.domain.messages import Direction, Message


def shown(ports: Ports, conversation_id: str) -> dict[str, Message]:
    return {m.id: m for m in ports.reader.all_messages(conversation_id)}


def like(
    wamid: str, seconds: float, emoji: str, *, target: str = "wamid.T", side: Direction = Direction.INBOUND
) -> Reaction:
    return Reaction(target=target, id=wamid, direction=side, emoji=emoji, at=at(seconds))


def edit(wamid: str, seconds: float, body: str, *, target: str = "wamid.T") -> Edit:
    return Edit(target=target, id=wamid, body=body, at=at(seconds))


def test_a_reply_and_a_forward_are_kept_by_insert_and_by_import(ports: Ports) -> None:
    box = inbox(ports)
    put(ports, box, dataclasses.replace(message("wamid.R", 1), reply_to_id="wamid.Q"))
    imported = ThreadImport(
        box.conversation_id, box.lead.lead.id, [dataclasses.replace(message("wamid.F", 2), forwarded=True)]
    )
    ports.messages.import_history(box.organization_id, box.connection.id, [imported])
    messages = shown(ports, box.conversation_id)
    assert (messages["wamid.R"].reply_to_id, messages["wamid.R"].forwarded) == ("wamid.Q", False)
    assert (messages["wamid.F"].reply_to_id, messages["wamid.F"].forwarded) == (None, True)


CALLS = sorted(set(itertools.permutations(["old", "new", "new"])))


@pytest.mark.parametrize("calls", CALLS, ids=["-".join(c) for c in CALLS])
def test_the_latest_reaction_of_a_side_wins_whatever_the_order(ports: Ports, calls: tuple[str, ...]) -> None:
    box = inbox(ports)
    put(ports, box, message("wamid.T"))
    reactions = {"old": like("wamid.X1", 10, "👍"), "new": like("wamid.X2", 20, "❤️")}
    changed = [ports.messages.annotate(box.connection.id, [reactions[c]]) for c in calls]
    [reaction] = shown(ports, box.conversation_id)["wamid.T"].reactions
    assert (reaction.emoji, reaction.direction, reaction.at) == ("❤️", Direction.INBOUND, at(20))
    assert changed[calls.index("new")] == 1 and sum(changed) == (2 if calls[0] == "old" else 1)


def test_an_empty_emoji_removes_the_side_and_the_other_side_stays(ports: Ports) -> None:
    box = inbox(ports)
    put(ports, box, message("wamid.T"))
    ports.messages.annotate(
        box.connection.id, [like("wamid.X1", 10, "👍"), like("wamid.B1", 11, "🙏", side=Direction.OUTBOUND)]
    )
    ports.messages.annotate(box.connection.id, [like("wamid.X2", 20, "")])
    assert [(r.emoji, r.direction) for r in shown(ports, box.conversation_id)["wamid.T"].reactions] == [
        ("🙏", Direction.OUTBOUND)
    ]


def test_annotations_before_their_message_wait_on_its_key_and_are_never_listed_nor_counted(ports: Ports) -> None:
    # Given a reaction and an edit of a message not stored yet
    box = inbox(ports)
    ports.messages.annotate(box.connection.id, [like("wamid.X1", 10, "😂"), edit("wamid.E1", 30, "novo")])
    assert shown(ports, box.conversation_id) == {} and message_count(ports, box.conversation_id) == 0
    # When the message is imported (a history chunk), twice
    thread = ThreadImport(box.conversation_id, box.lead.lead.id, [message("wamid.T", 0, body="velho")])
    first = ports.messages.import_history(box.organization_id, box.connection.id, [thread])
    again = ports.messages.import_history(box.organization_id, box.connection.id, [thread])
    # Then it shows both, and counts once
    found = shown(ports, box.conversation_id)["wamid.T"]
    assert [r.emoji for r in found.reactions] == ["😂"] and (found.body, found.edited_at) == ("novo", at(30))
    assert [(v.body, v.at) for v in found.edits] == [("velho", at(0))]
    assert (first.new_messages, again.new_messages, message_count(ports, box.conversation_id)) == (1, 0, 1)
    assert stored(ports, box.connection.id).history.messages_imported == 1


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_edits_are_kept_once_each_and_shown_in_time_order(ports: Ports, order: tuple[int, ...]) -> None:
    box = inbox(ports)
    edits = [edit("wamid.E1", 60, "v2"), edit("wamid.E2", 120, "v3"), edit("wamid.E1", 60, "v2")]
    put(ports, box, message("wamid.T", 0, body="v1"))
    changed = [ports.messages.annotate(box.connection.id, [edits[i]]) for i in order]
    found = shown(ports, box.conversation_id)["wamid.T"]
    assert (found.body, found.edited_at, [v.body for v in found.edits]) == ("v3", at(120), ["v1", "v2"])
    assert sum(changed) == 2


def test_a_chunk_of_annotations_names_each_key_once_per_transaction_and_keeps_them_all(ports: Ports) -> None:
    # Given 130 messages, and one call with 260 reactions (both sides of each) and two edits of one
    box = inbox(ports)
    thread = ThreadImport(box.conversation_id, box.lead.lead.id, [message(f"wamid.M{i:03d}", i) for i in range(130)])
    ports.messages.import_history(box.organization_id, box.connection.id, [thread])
    annotations: list[Annotation] = []
    for i in range(130):
        target = f"wamid.M{i:03d}"
        annotations += [like(f"wamid.C{i}", 500, "👍", target=target)]
        annotations += [like(f"wamid.B{i}", 501, "✅", target=target, side=Direction.OUTBOUND)]
    annotations += [
        edit("wamid.E2", 700, "third", target="wamid.M007"),
        edit("wamid.E1", 600, "second", target="wamid.M007"),
    ]
    # When they are kept in one call, and the call repeated
    first = ports.messages.annotate(box.connection.id, annotations)
    again = ports.messages.annotate(box.connection.id, annotations)
    # Then every one changed its message once
    messages = shown(ports, box.conversation_id)
    assert (first, again) == (262, 0)
    assert all([r.emoji for r in m.reactions] == ["👍", "✅"] for m in messages.values())
    assert (messages["wamid.M007"].body, [v.body for v in messages["wamid.M007"].edits]) == ("third", ["oi", "second"])


def test_a_status_a_reaction_and_an_edit_waiting_on_one_key_all_show_on_the_message(ports: Ports) -> None:
    # Given Meta's status, the customer's reaction and the business's edit of a message not stored yet
    box = inbox(ports)
    ports.messages.apply_status(box.connection.id, "wamid.T", "read", None)
    ports.messages.annotate(box.connection.id, [like("wamid.X1", 10, "👍")])
    ports.messages.annotate(box.connection.id, [edit("wamid.E1", 20, "corrigido")])
    # When the business's message is stored (an App echo, sent), twice
    sent = dataclasses.replace(message("wamid.T", 0, body="original", status="sent"), direction=Direction.OUTBOUND)
    assert (put(ports, box, sent), put(ports, box, sent)) == (True, False)
    # Then it shows all three, and counts once
    found = shown(ports, box.conversation_id)["wamid.T"]
    assert (found.status, found.body, [r.emoji for r in found.reactions]) == ("read", "corrigido", ["👍"])
    assert message_count(ports, box.conversation_id) == 1
