"""CONTRACT §7 message fidelity on the in-memory world: replies and forwards, reactions, edits and the
readable types, on every path (live, App echo, history), in any order and duplicated."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from tests.builders import fidelity as f
from tests.builders import payloads as b
from tests.unit.onboarding import CUSTOMER, T0, Onboarded, at
from whatrack.domain.messages import Direction

PATHS = ["live", "echo", "history"]


@pytest.fixture
def ob() -> Onboarded:
    return Onboarded.connect()


def sender(path: str) -> str:
    return CUSTOMER if path == "live" else b.BIZ


def said(path: str, *items: dict[str, Any]) -> dict[str, Any]:
    """``items`` delivered on ``path``: the customer's live messages, the business's App echoes, or
    a history chunk's thread with the customer."""
    if path == "live":
        return f.live(CUSTOMER, *items)
    if path == "echo":
        return f.echoes(CUSTOMER, *items)
    return b.chunk(1, 1, 50, b.thread(CUSTOMER, *f.in_history(*items)))


def original(wamid: str = "wamid.O", body: str = "quero 2 unidades") -> dict[str, Any]:
    """A history message of the customer: the target of the reactions and edits below."""
    return b.chunk(1, 1, 40, b.thread(CUSTOMER, b.text(wamid, CUSTOMER, T0, body)))


# ---------------------------------------------------------------- replies and forwards
@pytest.mark.parametrize("path", PATHS)
def test_a_reply_keeps_the_message_it_quotes_and_a_forward_its_flag(ob: Onboarded, path: str) -> None:
    # Given a message of the conversation
    ob.deliver(original())
    # When a reply quoting it and a forwarded message arrive on this path
    reply = f.text("wamid.R", sender(path), T0 + 10, "sim, 2", **f.reply_to("wamid.O", sender=CUSTOMER))
    forwarded = f.text("wamid.F", sender(path), T0 + 20, "olha isso", **f.FORWARDED)
    ob.deliver(said(path, reply, forwarded))
    # Then the reply names the quoted wamid, the forward is flagged, and neither is anything else
    messages = ob.messages()
    assert (messages["wamid.R"].reply_to_id, messages["wamid.R"].forwarded) == ("wamid.O", False)
    assert (messages["wamid.F"].reply_to_id, messages["wamid.F"].forwarded) == (None, True)
    assert (messages["wamid.O"].reply_to_id, messages["wamid.O"].forwarded) == (None, False)


@pytest.mark.parametrize("path", PATHS)
def test_a_frequently_forwarded_message_is_forwarded(ob: Onboarded, path: str) -> None:
    chain = f.text("wamid.FF", sender(path), T0, "corrente", context={"frequently_forwarded": True})
    ob.deliver(said(path, chain))
    assert ob.messages()["wamid.FF"].forwarded is True


@pytest.mark.parametrize(
    "context", ["not an object", ["a list"], 7, {"id": {"nested": 1}, "from": ["x"]}, {"forwarded": "yes"}]
)
def test_a_context_of_another_shape_is_read_as_none_and_the_message_kept(ob: Onboarded, context: Any) -> None:
    ob.deliver(f.live(CUSTOMER, f.text("wamid.C", CUSTOMER, T0, "oi", context=context)))
    message = ob.messages()["wamid.C"]
    assert (message.body, message.reply_to_id, message.forwarded) == ("oi", None, False)


# ---------------------------------------------------------------- reactions
@pytest.mark.parametrize("path", PATHS)
def test_a_reaction_attaches_to_its_target_and_is_never_a_message_or_a_ticket(ob: Onboarded, path: str) -> None:
    # Given a history message
    ob.deliver(original())
    # When a reaction to it arrives on this path
    ob.deliver(said(path, f.reaction("wamid.X1", sender(path), T0 + 30, "wamid.O", "👍")))
    # Then the target shows it, from its side, and nothing else was added
    direction = Direction.INBOUND if path in ("live", "history") and sender(path) == CUSTOMER else Direction.OUTBOUND
    [shown] = ob.messages()["wamid.O"].reactions
    assert (shown.emoji, shown.direction, shown.at) == ("👍", direction, at(T0 + 30))
    assert list(ob.messages()) == ["wamid.O"] and ob.tickets() == []
    assert ob.state().history.messages_imported == 1


ORDERS = [list(p) for p in itertools.permutations(["first", "second", "first"])]


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
@pytest.mark.parametrize(("later", "shown"), [("❤️", ["❤️"]), ("", [])], ids=["replaced", "removed"])
def test_the_latest_reaction_of_a_side_wins_in_any_order(
    ob: Onboarded, order: list[str], later: str, shown: list[str]
) -> None:
    # Given a customer's reaction and a later one (another emoji, or an empty one that removes it)
    reactions = {
        "first": f.live(CUSTOMER, f.reaction("wamid.X1", CUSTOMER, T0 + 10, "wamid.O", "👍")),
        "second": f.live(CUSTOMER, f.reaction("wamid.X2", CUSTOMER, T0 + 20, "wamid.O", later)),
    }
    # When they arrive in this order (one of them twice), before or after their target
    ob.deliver(*(reactions[name] for name in order[:1]), original(), *(reactions[name] for name in order[1:]))
    # Then the later one is what the message shows
    assert [r.emoji for r in ob.messages()["wamid.O"].reactions] == shown


def test_each_side_keeps_its_own_reaction(ob: Onboarded) -> None:
    ob.deliver(
        original(),
        f.echoes(CUSTOMER, f.reaction("wamid.XB", b.BIZ, T0 + 20, "wamid.O", "🙏")),
        f.live(CUSTOMER, f.reaction("wamid.XC", CUSTOMER, T0 + 10, "wamid.O", "👍")),
    )
    shown = [(r.emoji, r.direction) for r in ob.messages()["wamid.O"].reactions]
    assert shown == [("👍", Direction.INBOUND), ("🙏", Direction.OUTBOUND)]


def test_a_reaction_before_its_target_waits_and_is_never_counted(ob: Onboarded) -> None:
    # Given a reaction to a message that has not arrived
    ob.deliver(f.live(CUSTOMER, f.reaction("wamid.X1", CUSTOMER, T0 + 30, "wamid.LATE", "😂")))
    assert ob.messages() == {} and ob.leads() == [] and ob.tickets() == []
    # When the message arrives
    ob.deliver(original("wamid.LATE"))
    # Then it shows the reaction, and it counts once
    [shown] = ob.messages()["wamid.LATE"].reactions
    assert shown.emoji == "😂" and ob.state().history.messages_imported == 1


def test_a_chunk_with_reactions_to_its_own_messages_imports_only_the_messages(ob: Onboarded) -> None:
    thread = b.thread(
        CUSTOMER,
        b.text("wamid.H1", CUSTOMER, T0, "tem azul?"),
        b.text("wamid.H2", b.BIZ, T0 + 5, "tem sim"),
        *f.in_history(
            f.reaction("wamid.HX1", CUSTOMER, T0 + 6, "wamid.H2", "🎉"),
            f.reaction("wamid.HX2", b.BIZ, T0 + 7, "wamid.H1", "👀"),
            f.reaction("wamid.HX3", CUSTOMER, T0 + 8, "wamid.H2", "❤️"),
        ),
    )
    ob.deliver(b.chunk(1, 1, 50, thread), b.chunk(1, 1, 50, thread))
    messages = ob.messages()
    assert sorted(messages) == ["wamid.H1", "wamid.H2"] and ob.state().history.messages_imported == 2
    assert [(r.emoji, r.direction) for r in messages["wamid.H2"].reactions] == [("❤️", Direction.INBOUND)]
    assert [(r.emoji, r.direction) for r in messages["wamid.H1"].reactions] == [("👀", Direction.OUTBOUND)]


def test_a_reaction_without_its_emoji_key_removes_the_side(ob: Onboarded) -> None:
    ob.deliver(original(), f.live(CUSTOMER, f.reaction("wamid.X1", CUSTOMER, T0 + 10, "wamid.O", "👍")))
    ob.deliver(f.live(CUSTOMER, f.item("wamid.X2", CUSTOMER, T0 + 20, "reaction", {"message_id": "wamid.O"})))
    assert ob.messages()["wamid.O"].reactions == ()


@pytest.mark.parametrize("field", ["messages", "message_echoes"])
def test_reactions_and_edits_among_history_follow_ups_go_on_their_message(ob: Onboarded, field: str) -> None:
    # Given a history message, and a history change shaped like live traffic (the media follow-ups')
    ob.deliver(original())
    items = [
        f.reaction("wamid.FX", CUSTOMER, T0 + 10, "wamid.O", "🔥"),
        f.edit("wamid.FE", CUSTOMER, T0 + 20, "wamid.O", "quero 5 unidades"),
    ]
    ob.deliver(b.envelope("history", {"contacts": [{"wa_id": CUSTOMER}], field: items}))
    # Then they are on the message, not messages of their own
    message = ob.messages()["wamid.O"]
    assert ([r.emoji for r in message.reactions], message.body) == (["🔥"], "quero 5 unidades")
    assert list(ob.messages()) == ["wamid.O"] and ob.state().history.messages_imported == 1


def test_a_reaction_without_a_target_is_dropped(ob: Onboarded) -> None:
    ob.deliver(f.live(CUSTOMER, f.item("wamid.X", CUSTOMER, T0, "reaction", {"emoji": "👍"})))
    assert ob.messages() == {} and ob.tickets() == []
    [entry] = ob.webhook_entries()
    assert entry.status.value == "processed" and "reaction wamid.X: names no message" in (entry.error or "")


# ---------------------------------------------------------------- edits
@pytest.mark.parametrize("path", ["live", "echo"])
def test_an_edit_changes_the_text_and_keeps_the_original_as_a_version(ob: Onboarded, path: str) -> None:
    # Given a message on this path
    ob.deliver(said(path, f.text("wamid.O", sender(path), T0, "quero 2 unidades")))
    tickets = len(ob.tickets())
    # When it is edited (the edit delivered twice)
    edit = said(path, f.edit("wamid.E1", sender(path), T0 + 60, "wamid.O", "quero 3 unidades"))
    ob.deliver(edit, edit)
    # Then the one message shows the new text, when it was edited, and the original as its version
    message = ob.messages()["wamid.O"]
    assert (message.body, message.edited_at) == ("quero 3 unidades", at(T0 + 60))
    assert [(v.body, v.at) for v in message.edits] == [("quero 2 unidades", at(T0))]
    assert list(ob.messages()) == ["wamid.O"] and len(ob.tickets()) == tickets


EDIT_ORDERS = [list(p) for p in itertools.permutations(["original", "edit 1", "edit 2", "edit 2"])]


@pytest.mark.parametrize("order", EDIT_ORDERS[::3], ids=["-".join(o) for o in EDIT_ORDERS[::3]])
def test_edits_resolve_by_time_in_any_order_even_before_their_original(ob: Onboarded, order: list[str]) -> None:
    documents = {
        "original": original(),
        "edit 1": f.live(CUSTOMER, f.edit("wamid.E1", CUSTOMER, T0 + 60, "wamid.O", "quero 3")),
        "edit 2": f.live(CUSTOMER, f.edit("wamid.E2", CUSTOMER, T0 + 120, "wamid.O", "quero 4")),
    }
    ob.deliver(*(documents[name] for name in order))
    message = ob.messages()["wamid.O"]
    assert (message.body, message.edited_at) == ("quero 4", at(T0 + 120))
    assert [v.body for v in message.edits] == ["quero 2 unidades", "quero 3"]
    assert ob.tickets() == [] and ob.state().history.messages_imported == 1


def test_an_edit_in_a_history_chunk_changes_its_message_and_never_counts(ob: Onboarded) -> None:
    thread = b.thread(
        CUSTOMER,
        b.text("wamid.H1", CUSTOMER, T0, "tem azul"),
        *f.in_history(f.edit("wamid.HE", CUSTOMER, T0 + 30, "wamid.H1", "tem azul?")),
    )
    ob.deliver(b.chunk(1, 1, 50, thread), b.chunk(1, 1, 50, thread))
    message = ob.messages()["wamid.H1"]
    assert (message.body, [v.body for v in message.edits]) == ("tem azul?", ["tem azul"])
    assert list(ob.messages()) == ["wamid.H1"] and ob.state().history.messages_imported == 1


@pytest.mark.parametrize(
    "new",
    [None, "not an object", {"type": "text"}, {"type": "text", "text": {"body": 7}}, {"text": {"body": "no type"}}],
    ids=["missing", "not-an-object", "no-content", "body-not-text", "no-type"],
)
def test_an_unreadable_edit_is_dropped_and_noted_never_a_blank_text(ob: Onboarded, new: Any) -> None:
    ob.deliver(original())
    edit = f.item("wamid.EX", CUSTOMER, T0 + 60, "edit", {"original_message_id": "wamid.O", "message": new})
    ob.deliver(f.live(CUSTOMER, edit))
    message = ob.messages()["wamid.O"]
    assert (message.body, message.edited_at) == ("quero 2 unidades", None)
    assert "edit wamid.EX: names no message or no readable content" in (ob.webhook_entries()[-1].error or "")


def test_an_edit_that_removes_a_caption_shows_none(ob: Onboarded) -> None:
    image = {"id": "media-1", "mime_type": "image/jpeg", "caption": "vestido azul"}
    ob.deliver(f.echoes(CUSTOMER, f.item("wamid.IMG", b.BIZ, T0, "image", image)))
    removal = {"original_message_id": "wamid.IMG", "message": {"type": "image", "image": {"id": "media-1"}}}
    ob.deliver(f.echoes(CUSTOMER, f.item("wamid.E1", b.BIZ, T0 + 30, "edit", removal)))
    message = ob.messages()["wamid.IMG"]
    assert message.media is not None and (message.media.caption, message.edited_at) == (None, at(T0 + 30))


def test_an_edit_of_a_media_message_changes_its_caption(ob: Onboarded) -> None:
    image = {"id": "media-1", "mime_type": "image/jpeg", "caption": "vestido azul"}
    ob.deliver(f.echoes(CUSTOMER, f.item("wamid.IMG", b.BIZ, T0, "image", image)))
    ob.deliver(f.echoes(CUSTOMER, f.edit("wamid.E1", b.BIZ, T0 + 30, "wamid.IMG", "vestido verde", kind="image")))
    message = ob.messages()["wamid.IMG"]
    assert message.media is not None and (message.media.caption, message.body) == ("vestido verde", "vestido verde")
    assert [v.body for v in message.edits] == ["vestido azul"]


def test_an_edit_delivered_as_unsupported_stays_an_unsupported_record(ob: Onboarded) -> None:
    # Given the original, and an edit Meta delivered as `unsupported` (mid-2026)
    unsupported = f.item("wamid.U", CUSTOMER, T0 + 60, "unsupported", None, errors=f.UNSUPPORTED_ERRORS)
    ob.deliver(original(), f.live(CUSTOMER, unsupported))
    # Then the original is untouched and the unsupported record says why, without an error; it is a
    # live message of the customer like any (it cannot be told from one), so it opens the ticket
    messages = ob.messages()
    assert (messages["wamid.O"].body, messages["wamid.O"].edited_at) == ("quero 2 unidades", None)
    assert [t.originated_from.value for t in ob.tickets()] == ["history_lead"]
    assert (messages["wamid.U"].type, messages["wamid.U"].body) == ("unsupported", "Message type unknown")
    assert {e.status.value for e in ob.webhook_entries()} == {"processed"}


# ---------------------------------------------------------------- every type readable
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("kind", sorted(f.BODILESS))
def test_a_type_without_a_body_gets_a_readable_summary_and_keeps_its_raw_object(
    ob: Onboarded, kind: str, path: str
) -> None:
    content, summary = f.BODILESS[kind]
    ob.deliver(said(path, f.item("wamid.T", sender(path), T0, kind, content)))
    message = ob.messages()["wamid.T"]
    assert (message.type, message.body) == (kind, summary)
    assert message.content is not None and json.loads(message.content) == content


def test_a_list_reply_shows_its_title(ob: Onboarded) -> None:
    ob.deliver(f.live(CUSTOMER, f.item("wamid.L", CUSTOMER, T0, "interactive", f.LIST_REPLY)))
    assert ob.messages()["wamid.L"].body == "Plano Pro"


def test_a_location_with_coordinates_only_shows_them(ob: Onboarded) -> None:
    ob.deliver(f.live(CUSTOMER, f.item("wamid.L", CUSTOMER, T0, "location", {"latitude": 1.5, "longitude": -2})))
    assert ob.messages()["wamid.L"].body == "1.5, -2"


def test_an_unknown_future_type_is_stored_raw_without_a_summary(ob: Onboarded) -> None:
    poll = {"question": "Qual cor?", "options": ["azul", "verde"]}
    ob.deliver(f.live(CUSTOMER, f.item("wamid.P", CUSTOMER, T0, "poll", poll)))
    message = ob.messages()["wamid.P"]
    assert (message.type, message.body) == ("poll", None)
    assert message.content is not None and json.loads(message.content) == poll


# ---------------------------------------------------------------- a customer's delete
def revoke_of(target: str) -> dict[str, Any]:
    return f.live(CUSTOMER, f.item("wamid.RV", CUSTOMER, T0 + 20, "revoke", {"original_message_id": target}))


def test_a_customer_revoke_marks_the_message_deleted_and_opens_nothing(ob: Onboarded) -> None:
    ob.deliver(original(), revoke_of("wamid.O"), revoke_of("wamid.O"))
    message = ob.messages()["wamid.O"]
    assert (message.deleted, message.body, message.type) == (True, "quero 2 unidades", "text")
    assert list(ob.messages()) == ["wamid.O"] and ob.tickets() == []


def test_a_customer_revoke_before_its_live_message_leaves_it_deleted_with_its_content(ob: Onboarded) -> None:
    ob.deliver(revoke_of("wamid.LIVE"))
    assert ob.tickets() == []
    ob.deliver(f.live(CUSTOMER, f.text("wamid.LIVE", CUSTOMER, T0, "apaguei")))
    message = ob.messages()["wamid.LIVE"]
    assert (message.deleted, message.body, message.type, message.timestamp) == (True, "apaguei", "text", at(T0))


def test_a_customer_revoke_before_the_history_of_its_message_leaves_it_deleted_with_its_content(
    ob: Onboarded,
) -> None:
    # Given the customer deleted a message during the onboarding, before its history came
    ob.deliver(revoke_of("wamid.O"))
    # When the chunk with it arrives, twice
    ob.deliver(original(), original())
    # Then it is the history message, deleted, counted once as imported
    message = ob.messages()["wamid.O"]
    assert (message.deleted, message.type, message.body, message.history_status) == (
        True,
        "text",
        "quero 2 unidades",
        "READ",
    )
    assert ob.state().history.messages_imported == 1 and ob.state().history_inbound == 1


def test_a_revoke_before_a_reply_keeps_what_the_reply_quoted(ob: Onboarded) -> None:
    ob.deliver(revoke_of("wamid.LIVE"))
    reply = f.text("wamid.LIVE", CUSTOMER, T0, "apaguei", **f.reply_to("wamid.Q", sender=b.BIZ))
    ob.deliver(f.live(CUSTOMER, {**reply, "context": {**reply["context"], "forwarded": True}}))
    message = ob.messages()["wamid.LIVE"]
    assert (message.deleted, message.reply_to_id, message.forwarded) == (True, "wamid.Q", True)


@pytest.mark.parametrize("revoke_first", [False, True], ids=["echo-then-revoke", "revoke-then-echo"])
def test_a_delete_never_moves_the_conversation_last_message_time(ob: Onboarded, revoke_first: bool) -> None:
    # Given an App echo and the business deleting it later, in either order
    echo, deleted = b.echo("wamid.E1", CUSTOMER, T0), b.revoke("wamid.RV", "wamid.E1", CUSTOMER, T0 + 300)
    ob.deliver(*((deleted, echo) if revoke_first else (echo, deleted)))
    # Then the conversation's last message is the echo's, and the lead's too
    [conversation] = ob.world.reader.conversations_of(ob.lead().id)
    assert (conversation.last_message_at, ob.lead().last_message_at) == (at(T0), at(T0))
    assert ob.messages()["wamid.E1"].deleted is True
