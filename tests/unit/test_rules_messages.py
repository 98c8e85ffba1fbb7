"""CONTRACT §8.7 (App echoes), §8.8 (history media follow-ups) and §8.9 (statuses) on the in-memory world."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.builders import payloads as b
from tests.unit.onboarding import CUSTOMER, OTHER, T0, Onboarded, at
from whatrack.domain.errors import TransientError
from whatrack.domain.messages import Direction, MessageSource


@pytest.fixture
def ob() -> Onboarded:
    return Onboarded.connect()


# ---------------------------------------------------------------- §8.7 echoes
def test_rule_8_7_unknown_echo_is_a_new_outbound_app_echo(ob: Onboarded) -> None:
    # Given no message with that wamid
    # When the business types it in the App
    ob.deliver(b.echo("wamid.E1", CUSTOMER, T0))
    # Then it is stored as an outbound, sent, confirmed App echo, and no ticket opens
    echo = ob.messages()["wamid.E1"]
    assert (echo.direction, echo.source, echo.status) == (Direction.OUTBOUND, MessageSource.APP_ECHO, "sent")
    assert echo.meta_confirmed_at is not None and echo.body == "resposta"
    assert ob.tickets() == []


def test_an_app_echo_moves_the_open_tickets_last_message_but_not_its_windows(ob: Onboarded) -> None:
    # Given a ticket opened by a live message at T0
    ob.deliver(b.live("wamid.L1", CUSTOMER, T0))
    [opened] = ob.tickets()
    # When the business answers in the App a minute later, and an older echo arrives after it
    ob.deliver(b.echo("wamid.E2", CUSTOMER, T0 + 60))
    ob.deliver(b.echo("wamid.E0", CUSTOMER, T0 - 600))
    # Then the ticket's latest message is the App's, and neither window moved (CONTRACT §7, §8.14)
    [ticket] = ob.tickets()
    assert ticket.last_message_at == at(T0 + 60)
    assert ticket.message_window_expires_at == opened.message_window_expires_at
    assert ticket.customer_service_window_ends_at == opened.customer_service_window_ends_at


def test_an_echo_delivered_again_after_a_failure_past_its_insert_still_moves_the_ticket(
    ob: Onboarded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a live ticket, and an App echo whose first delivery fails after the echo was stored
    ob.deliver(b.live("wamid.R1", CUSTOMER, T0))
    moved = ob.world.tickets.moved

    def down(ticket_id: str, message_at: datetime) -> None:
        raise TransientError("storage down")

    monkeypatch.setattr(ob.world.tickets, "moved", down)
    with pytest.raises(TransientError):
        ob.deliver(b.echo("wamid.R2", CUSTOMER, T0 + 60))
    assert "wamid.R2" in ob.messages() and ob.ticket().last_message_at == at(T0)
    # When SQS delivers it again
    monkeypatch.setattr(ob.world.tickets, "moved", moved)
    ob.world.consumer().consume(ob.world.publisher.sent[-1])
    # Then the ticket's latest message is the App's all the same
    assert ob.ticket().last_message_at == at(T0 + 60)


def test_an_app_echo_applied_before_the_message_that_opens_the_ticket_still_counts_for_it(ob: Onboarded) -> None:
    # Given the App's answer (another queue) applied before the customer's live message it answers
    ob.deliver(b.echo("wamid.O2", CUSTOMER, T0 + 60))
    # When the live message opens the ticket
    ob.deliver(b.live("wamid.O1", CUSTOMER, T0))
    # Then the ticket's latest message is the App's answer, as if they had come in order
    assert ob.ticket().last_message_at == at(T0 + 60)


def test_every_change_of_the_inbox_moves_the_numbers_activity_once_stored(ob: Onboarded) -> None:
    """D-49: what the open screens ask ("anything new?") moves with every change applied, one the
    card does not show included, and with a change refused for good (its log entry changed)."""
    before = ob.state().activity
    ob.deliver(b.live("wamid.A1", CUSTOMER, T0))
    ob.deliver(b.live_raw("wamid.A2", CUSTOMER, T0 + 5, "reaction", {"message_id": "wamid.A1", "emoji": "❤️"}))
    ob.deliver(b.status("wamid.A1", "read", T0 + 6))
    assert ob.state().activity == before + 3
    [ticket] = ob.tickets()
    ob.world.queries().close_ticket(ob.connection.organization_id, ticket.id)
    assert ob.state().activity == before + 4


def test_rule_8_7_known_echo_is_confirmed_and_at_least_sent(ob: Onboarded) -> None:
    # Given a history message of the business still pending
    ob.deliver(b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text("wamid.K", b.BIZ, T0 - 50, status="PENDING"))))
    assert ob.messages()["wamid.K"].status == "pending"
    # When its echo arrives
    ob.deliver(b.echo("wamid.K", CUSTOMER, T0 - 50))
    # Then the same message is an App echo, confirmed and sent, and nothing was added
    known = ob.messages()["wamid.K"]
    assert (known.source, known.status, known.meta_confirmed_at is not None) == (MessageSource.APP_ECHO, "sent", True)
    assert len(ob.messages()) == 1 and ob.state().history.messages_imported == 1


def test_rule_8_7_known_echo_never_moves_a_status_back(ob: Onboarded) -> None:
    # Given a history message of the business already read
    ob.deliver(b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text("wamid.KR", b.BIZ, T0, status="READ"))))
    # When its echo arrives
    ob.deliver(b.echo("wamid.KR", CUSTOMER, T0))
    # Then it stays read
    assert ob.messages()["wamid.KR"].status == "read"


def test_rule_8_7_revoke_marks_the_message_deleted(ob: Onboarded) -> None:
    # Given an App echo
    ob.deliver(b.echo("wamid.E1", CUSTOMER, T0))
    # When the business deletes it for everyone
    ob.deliver(b.revoke("wamid.RV", "wamid.E1", CUSTOMER, T0 + 10))
    # Then the message is kept, marked deleted, and the revoke is not a message
    assert ob.messages()["wamid.E1"].deleted is True
    assert list(ob.messages()) == ["wamid.E1"] and ob.tickets() == []


def test_rule_8_7_revoke_before_the_original_leaves_it_deleted(ob: Onboarded) -> None:
    # Given a revoke that arrives before its original
    # When the original then arrives
    ob.deliver(b.revoke("wamid.RV2", "wamid.LATE", CUSTOMER, T0 + 10), b.echo("wamid.LATE", CUSTOMER, T0))
    # Then the original is stored with its content, deleted, confirmed as an echo
    late = ob.messages()["wamid.LATE"]
    assert (late.deleted, late.type, late.body, late.timestamp) == (True, "text", "resposta", at(T0))
    assert (late.source, late.status, late.meta_confirmed_at is not None) == (MessageSource.APP_ECHO, "sent", True)


# ---------------------------------------------------------------- §8.8 media follow-ups
@pytest.mark.parametrize("outbound", [False, True], ids=["customer", "business"])
def test_rule_8_8_media_followup_fills_the_placeholder(ob: Onboarded, outbound: bool) -> None:
    # Given a history media placeholder (sent by the customer or the business)
    sender = b.BIZ if outbound else CUSTOMER
    ob.deliver(b.chunk(1, 1, 50, b.thread(CUSTOMER, b.placeholder("wamid.M", sender, T0))))
    assert ob.state().history.media_pending == 1
    # When its media follow-up arrives, twice
    followup = b.media_followup("wamid.M", CUSTOMER, T0, outbound=outbound)
    ob.deliver(followup, followup)
    # Then the one message has its type and media; nothing pending and nothing added
    [message] = ob.messages().values()
    assert message.type == "image" and message.media is not None and message.media.id == "media-wamid.M"
    state = ob.state()
    assert (state.history.media_pending, state.media_received, state.history.messages_imported) == (0, 1, 1)


def test_rule_8_8_followup_before_its_chunk_still_one_message(ob: Onboarded) -> None:
    # Given a media follow-up that arrives before the chunk with its placeholder
    ob.deliver(b.media_followup("wamid.M2", CUSTOMER, T0))
    # When the chunk arrives
    ob.deliver(b.chunk(1, 1, 50, b.thread(CUSTOMER, b.placeholder("wamid.M2", CUSTOMER, T0))))
    # Then one message with the media exists, imported once, nothing pending
    [message] = ob.messages().values()
    assert message.type == "image" and message.source is MessageSource.HISTORY
    state = ob.state()
    assert (state.history.messages_imported, state.history.media_pending, state.media_received) == (1, 0, 1)


@pytest.mark.parametrize("outbound", [False, True], ids=["customer", "business"])
def test_rule_8_8_a_followup_and_its_placeholder_end_the_same_in_either_order(outbound: bool) -> None:
    # Given a placeholder (read, in its history context) and its media follow-up, in both orders
    sender = b.BIZ if outbound else CUSTOMER
    chunk = b.chunk(1, 1, 50, b.thread(CUSTOMER, b.placeholder("wamid.M3", sender, T0)))
    followup = b.media_followup("wamid.M3", CUSTOMER, T0, outbound=outbound)
    ends = []
    for order in ((chunk, followup), (followup, chunk)):
        ob = Onboarded.connect()
        ob.deliver(*order)
        [message] = ob.messages().values()
        state = ob.state()
        counters = (state.history.messages_imported, state.history.media_pending, state.media_placeholders)
        ends.append((message.type, message.status, message.history_status, counters, state.media_received))
    # Then the message and the counters are the same: the follow-up first counts as a filled
    # placeholder, and the placeholder after it still adds the status it carries
    assert ends[0] == ends[1]
    assert ends[0][0] == "image" and ends[0][2] is not None and ends[0][3] == (1, 0, 1)


# ---------------------------------------------------------------- §8.9 statuses
def test_rule_8_9_statuses_only_move_forward(ob: Onboarded) -> None:
    # Given an App echo (sent)
    ob.deliver(b.echo("wamid.S", CUSTOMER, T0))
    # When "read" arrives before "delivered"
    ob.deliver(b.status("wamid.S", "read", T0 + 20), b.status("wamid.S", "delivered", T0 + 10))
    # Then the message is read
    assert ob.messages()["wamid.S"].status == "read"


def test_rule_8_9_failed_records_the_error(ob: Onboarded) -> None:
    # Given an App echo (sent)
    ob.deliver(b.echo("wamid.F", CUSTOMER, T0))
    # When it fails
    ob.deliver(b.status("wamid.F", "failed", T0 + 5, error_code=131049))
    # Then it is failed with Meta's error
    failed = ob.messages()["wamid.F"]
    assert failed.status == "failed" and failed.error == "not delivered"


def test_rule_8_9_a_status_of_another_connection_changes_nothing(ob: Onboarded) -> None:
    # Given an App echo on this connection, and a second connection of the organization
    ob.deliver(b.echo("wamid.S2", CUSTOMER, T0))
    ob.world.connect(ob.connection.organization_id, phone_number_id="111222333", display_phone_number=OTHER)
    # When a status with that wamid arrives for the other number
    status = b.status("wamid.S2", "read", T0 + 1)
    status["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "111222333"
    ob.deliver(status)
    # Then this connection's message did not move
    assert ob.messages()["wamid.S2"].status == "sent"


def test_rule_8_9_a_status_before_its_message_is_applied_when_the_message_is_stored(ob: Onboarded) -> None:
    # Given a "delivered" status of a message not stored yet
    ob.deliver(b.status("wamid.EARLY", "delivered", T0 + 5))
    # When the message arrives (as an App echo: sent)
    ob.deliver(b.echo("wamid.EARLY", CUSTOMER, T0))
    # Then the kept status applies: it is delivered
    assert ob.messages()["wamid.EARLY"].status == "delivered"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("echo", "delivered"),
        ("history_chunk", "read"),
        ("history_followup", "delivered"),
        ("live", "delivered"),
    ],
)
def test_rule_8_9_a_kept_status_is_applied_by_every_insert_path_taking_the_higher(
    ob: Onboarded, path: str, expected: str
) -> None:
    # Given "delivered" (twice) and "sent" of a message not stored yet
    wamid = f"wamid.K.{path}"
    delivered = b.status(wamid, "delivered", T0 + 5)
    ob.deliver(delivered, b.status(wamid, "sent", T0 + 4), delivered)
    # When the message is stored by one path (a history chunk says READ, higher than the kept status)
    document = {
        "echo": lambda: b.echo(wamid, CUSTOMER, T0),
        "history_chunk": lambda: b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text(wamid, b.BIZ, T0, status="READ"))),
        "history_followup": lambda: b.media_followup(wamid, CUSTOMER, T0, outbound=True),
        "live": lambda: b.live(wamid, CUSTOMER, T0),
    }[path]()
    ob.deliver(document, document)
    # Then it is stored once, with the higher of its own status and the kept one
    [stored] = ob.messages().values()
    assert (stored.id, stored.status) == (wamid, expected)


def test_rule_8_9_a_kept_failed_status_keeps_its_error_over_a_read_history_message(ob: Onboarded) -> None:
    # Given a "failed" status of a message not stored yet
    ob.deliver(b.status("wamid.KF", "failed", T0 + 5, error_code=131049))
    # When the history chunk brings it as READ
    ob.deliver(b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text("wamid.KF", b.BIZ, T0, status="READ"))))
    # Then it is failed with Meta's error (failed ranks above every delivery state)
    stored = ob.messages()["wamid.KF"]
    assert (stored.status, stored.error) == ("failed", "not delivered")


def test_rule_8_9_a_kept_status_is_never_listed_nor_counted(ob: Onboarded) -> None:
    # Given a status of a message not stored yet
    ob.deliver(b.status("wamid.NOTYET", "read", T0 + 5))
    # Then no message, lead, conversation or ticket shows, and no counter moved
    assert ob.messages() == {} and ob.leads() == [] and ob.tickets() == []
    assert ob.state().history.messages_imported == 0
    # When its history chunk arrives (twice)
    chunk = b.chunk(1, 1, 50, b.thread(CUSTOMER, b.text("wamid.NOTYET", b.BIZ, T0, status="DELIVERED")))
    ob.deliver(chunk, chunk)
    # Then it is imported and counted once, read
    [stored] = ob.messages().values()
    assert stored.status == "read" and ob.state().history.messages_imported == 1
    [conversation] = ob.world.reader.conversations_of(ob.lead().id)
    assert conversation.message_count == 1


def test_rule_8_9_a_kept_status_does_not_stop_a_revoke_before_the_original(ob: Onboarded) -> None:
    # Given a status, then a revoke, of a message not stored yet
    ob.deliver(b.status("wamid.KR", "delivered", T0 + 5), b.revoke("wamid.RVK", "wamid.KR", CUSTOMER, T0 + 10))
    # When the original arrives
    ob.deliver(b.echo("wamid.KR", CUSTOMER, T0))
    # Then it is stored deleted, with its content and the kept status
    stored = ob.messages()["wamid.KR"]
    assert (stored.deleted, stored.body, stored.status) == (True, "resposta", "delivered")
