"""Port contract: Messages: uniqueness per wamid, counters, media, revokes, echoes, statuses."""

from __future__ import annotations

import itertools

import pytest

from tests.integration.contracts.support import (
    T0,
    Ports,
    at,
    inbox,
    message,
    message_count,
    phone,
    placeholder,
    put,
    stored,
    stored_message,
    unique_number,
)
from whatrack.domain.history import HistoryImportResult, ThreadImport
from whatrack.domain.inbox import (
    LeadSource,
)
from whatrack.domain.messages import MEDIA_PLACEHOLDER_TYPE, REVOKED_TYPE, Direction, MessageSource


# =========================================================================== messages
def test_a_message_is_unique_per_connection_and_wamid(ports: Ports) -> None:
    # Given a message stored on a connection
    box = inbox(ports)
    first = put(ports, box, message("wamid.U"))
    # When the same wamid is inserted again, and on another connection
    again = put(ports, box, message("wamid.U", body="other"))
    elsewhere = inbox(ports)
    other = ports.messages.insert(
        elsewhere.organization_id, elsewhere.connection.id, elsewhere.conversation_id, message("wamid.U")
    )
    # Then the replay is refused (the first copy kept) and the other connection stores its own
    assert (first, again, other) == (True, False, True)
    assert stored_message(ports, box, "wamid.U")["body"] == "oi"
    assert message_count(ports, box.conversation_id) == 1


def test_live_insert_counts_the_conversation_but_no_history_counter(ports: Ports) -> None:
    # Given a conversation
    box = inbox(ports)
    # When two live messages are inserted
    for wamid in ("wamid.L1", "wamid.L2"):
        put(ports, box, message(wamid, source=MessageSource.LIVE))
    # Then the conversation counts two and the connection's history counters do not move
    state = stored(ports, box.connection.id)
    assert message_count(ports, box.conversation_id) == 2
    assert (state.history.messages_imported, state.history_inbound) == (0, 0)


def test_history_import_counts_messages_directions_media_and_threads(ports: Ports) -> None:
    # Given two conversations on one connection
    box = inbox(ports)
    lead2 = ports.leads.resolve(box.organization_id, phone(unique_number()), LeadSource.HISTORY_SYNC, T0)
    conversation2 = ports.conversations.ensure(box.organization_id, lead2.lead.id, box.connection.id, T0, None)
    threads = [
        ThreadImport(
            box.conversation_id,
            box.lead.lead.id,
            [
                message("wamid.H1"),
                message("wamid.H2", 1, direction=Direction.OUTBOUND),
                placeholder("wamid.H3", 2),
            ],
        ),
        ThreadImport(
            conversation2,
            lead2.lead.id,
            [message("wamid.H4", 3, kind="image", body=None, media={"id": "m-4", "mimeType": "image/jpeg"})],
        ),
    ]
    # When a chunk with both threads is imported
    result = ports.messages.import_history(box.organization_id, box.connection.id, threads)
    # Then every message, direction, media and thread is counted once
    state = stored(ports, box.connection.id)
    assert result == HistoryImportResult(new_messages=4, new_threads=2)
    assert (state.history.messages_imported, state.history.threads_imported) == (4, 2)
    assert (state.history_inbound, state.history_outbound) == (3, 1)
    assert (state.history.media_pending, state.media_placeholders, state.media_received) == (1, 1, 1)
    assert (message_count(ports, box.conversation_id), message_count(ports, conversation2)) == (3, 1)


def test_history_import_replayed_counts_nothing_new(ports: Ports) -> None:
    # Given an imported chunk
    box = inbox(ports)
    threads = [ThreadImport(box.conversation_id, box.lead.lead.id, [message("wamid.R1"), placeholder("wamid.R2")])]
    ports.messages.import_history(box.organization_id, box.connection.id, threads)
    # When it is imported again, with one new message in the thread
    threads[0].messages.append(message("wamid.R3", 5))
    result = ports.messages.import_history(box.organization_id, box.connection.id, threads)
    # Then only the new message counts: no thread, no media, no second copy
    state = stored(ports, box.connection.id).history
    assert result == HistoryImportResult(new_messages=1, new_threads=0)
    assert (state.messages_imported, state.threads_imported, state.media_pending) == (3, 1, 1)
    assert message_count(ports, box.conversation_id) == 3


def test_history_insert_moves_the_history_counters(ports: Ports) -> None:
    # Given a conversation
    box = inbox(ports)
    # When a media follow-up that never had a placeholder is inserted as history
    media = {"id": "m-9", "mimeType": "image/jpeg", "caption": None}
    put(
        ports,
        box,
        message("wamid.F1", direction=Direction.OUTBOUND, kind="image", media=media),
        history=True,
    )
    # Then it counts as an imported outbound message with its media received
    state = stored(ports, box.connection.id)
    assert (state.history.messages_imported, state.history_outbound, state.media_received) == (1, 1, 1)
    assert state.history.threads_imported == 0


def test_media_fills_a_placeholder_once(ports: Ports) -> None:
    # Given an imported media placeholder
    box = inbox(ports)
    ports.messages.import_history(
        box.organization_id,
        box.connection.id,
        [ThreadImport(box.conversation_id, box.lead.lead.id, [placeholder("wamid.M")])],
    )
    media = {"id": "media-1", "mimeType": "image/jpeg", "caption": "foto"}
    # When its media follow-up arrives twice
    first = ports.messages.fill_media(box.connection.id, "wamid.M", "image", media, "foto")
    second = ports.messages.fill_media(box.connection.id, "wamid.M", "video", {"id": "media-2"}, "again")
    # Then the first fills type, media and body and moves the counters; the second changes nothing
    filled = stored_message(ports, box, "wamid.M")
    state = stored(ports, box.connection.id)
    assert (first, second) == (True, False)
    assert (filled["type"], filled["media_id"], filled["body"]) == ("image", "media-1", "foto")
    assert (state.history.media_pending, state.media_received, state.history.messages_imported) == (0, 1, 1)


def test_media_never_fills_a_message_that_is_not_a_placeholder(ports: Ports) -> None:
    # Given a text message
    box = inbox(ports)
    put(ports, box, message("wamid.TXT"))
    # When media is offered for it, and for a wamid not stored
    on_text = ports.messages.fill_media(box.connection.id, "wamid.TXT", "image", {"id": "m"}, None)
    missing = ports.messages.fill_media(box.connection.id, "wamid.NONE", "image", {"id": "m"}, None)
    # Then neither applies and no counter moved
    assert (on_text, missing) == (False, False)
    assert stored_message(ports, box, "wamid.TXT")["type"] == "text"
    assert stored(ports, box.connection.id).media_received == 0


def test_the_original_of_a_revoke_fills_its_tombstone_and_stays_deleted(ports: Ports) -> None:
    # Given a tombstone kept for a message revoked before it arrived
    box = inbox(ports)
    tombstone = message(
        "wamid.RV",
        10,
        direction=Direction.OUTBOUND,
        source=MessageSource.APP_ECHO,
        kind=REVOKED_TYPE,
        body=None,
        deleted=True,
    )
    put(ports, box, tombstone)
    # When the original arrives
    original = message("wamid.RV", 5, direction=Direction.OUTBOUND, source=MessageSource.APP_ECHO, body="secret")
    restored = ports.messages.restore_revoked(box.connection.id, original)
    # Then it takes the original's content and time, and stays deleted
    kept = stored_message(ports, box, "wamid.RV")
    assert restored is True
    assert (kept["type"], kept["body"], kept["timestamp"], kept["deleted"]) == ("text", "secret", at(5), True)


def test_restore_revoked_never_touches_a_message_that_is_not_a_tombstone(ports: Ports) -> None:
    # Given a normal stored message
    box = inbox(ports)
    put(ports, box, message("wamid.N", body="a"))
    # When a "restore" of it, and of a wamid not stored, are attempted
    on_message = ports.messages.restore_revoked(box.connection.id, message("wamid.N", body="b"))
    missing = ports.messages.restore_revoked(box.connection.id, message("wamid.MISSING"))
    # Then neither applies
    assert (on_message, missing) == (False, False)
    assert stored_message(ports, box, "wamid.N")["body"] == "a"


def test_only_a_stored_message_is_marked_deleted(ports: Ports) -> None:
    # Given a stored message
    box = inbox(ports)
    put(ports, box, message("wamid.D"))
    # When it and a wamid not stored are revoked
    deleted = ports.messages.mark_deleted(box.connection.id, "wamid.D")
    missing = ports.messages.mark_deleted(box.connection.id, "wamid.NOT-STORED")
    # Then only the stored one is marked
    assert (deleted, missing) == (True, False)
    assert stored_message(ports, box, "wamid.D")["deleted"] is True


def test_confirming_an_echo_marks_it_app_echo_confirmed_once_and_sent(ports: Ports) -> None:
    # Given a history message still pending
    box = inbox(ports)
    put(
        ports,
        box,
        message("wamid.E", direction=Direction.OUTBOUND, status="pending"),
    )
    # When its echo is confirmed twice
    ports.messages.confirm_echo(box.connection.id, "wamid.E", at(10))
    ports.messages.confirm_echo(box.connection.id, "wamid.E", at(20))
    # Then it is an app echo, confirmed at the first time, with status "sent"
    echoed = stored_message(ports, box, "wamid.E")
    assert (echoed["source"], echoed["confirmed"], echoed["status"]) == (MessageSource.APP_ECHO, at(10), "sent")


def test_confirming_an_echo_never_moves_its_status_back(ports: Ports) -> None:
    # Given a message already read
    box = inbox(ports)
    put(ports, box, message("wamid.ER", status="read"))
    # When its echo is confirmed
    ports.messages.confirm_echo(box.connection.id, "wamid.ER", at(1))
    # Then it stays read
    assert stored_message(ports, box, "wamid.ER")["status"] == "read"


def test_statuses_only_move_forward(ports: Ports) -> None:
    # Given a sent message
    box = inbox(ports)
    put(ports, box, message("wamid.S", status="sent"))
    # When "read" arrives before "delivered"
    read = ports.messages.apply_status(box.connection.id, "wamid.S", "read", None)
    delivered = ports.messages.apply_status(box.connection.id, "wamid.S", "delivered", None)
    # Then read applies, the late delivered does not
    assert (read, delivered) == (True, False)
    assert stored_message(ports, box, "wamid.S")["status"] == "read"


def test_a_failed_status_records_its_error(ports: Ports) -> None:
    # Given a delivered message
    box = inbox(ports)
    put(ports, box, message("wamid.X", status="delivered"))
    # When it fails
    failed = ports.messages.apply_status(box.connection.id, "wamid.X", "failed", "131049: not delivered")
    # Then the status is failed with its error
    kept = stored_message(ports, box, "wamid.X")
    assert failed is True and (kept["status"], kept["error"]) == ("failed", "131049: not delivered")


def test_an_unknown_status_is_not_applied(ports: Ports) -> None:
    # Given a sent message
    box = inbox(ports)
    put(ports, box, message("wamid.K", status="sent"))
    # When a status we do not know arrives
    applied = ports.messages.apply_status(box.connection.id, "wamid.K", "warning", None)
    # Then it is refused and the status stays
    assert applied is False and stored_message(ports, box, "wamid.K")["status"] == "sent"


def test_a_status_of_a_message_not_stored_is_kept_unlisted_uncounted_and_applied_at_insert(ports: Ports) -> None:
    # Given a conversation without the message
    box = inbox(ports)
    # When its statuses arrive first ("read", then a late "delivered")
    read = ports.messages.apply_status(box.connection.id, "wamid.LATE", "read", None)
    delivered = ports.messages.apply_status(box.connection.id, "wamid.LATE", "delivered", None)
    # Then read is kept (the late one is not), and nothing is listed or counted
    assert (read, delivered) == (True, False)
    assert ports.reader.all_messages(box.conversation_id) == [] and message_count(ports, box.conversation_id) == 0
    # When the message is inserted (sent), twice
    inserted = [put(ports, box, message("wamid.LATE", status="sent")) for _ in range(2)]
    # Then it is stored once, counted once, read
    assert inserted == [True, False] and message_count(ports, box.conversation_id) == 1
    assert stored_message(ports, box, "wamid.LATE")["status"] == "read"


def test_an_insert_with_a_higher_status_than_the_kept_one_shows_its_own(ports: Ports) -> None:
    # Given a kept "delivered"
    box = inbox(ports)
    ports.messages.apply_status(box.connection.id, "wamid.HI", "delivered", None)
    # When the message is inserted read (a history message)
    put(ports, box, message("wamid.HI", status="read"))
    # Then it is read; a later "delivered" is not applied, a "failed" is
    assert stored_message(ports, box, "wamid.HI")["status"] == "read"
    late = ports.messages.apply_status(box.connection.id, "wamid.HI", "delivered", None)
    failed = ports.messages.apply_status(box.connection.id, "wamid.HI", "failed", "131049: not delivered")
    kept = stored_message(ports, box, "wamid.HI")
    assert (late, failed, kept["status"], kept["error"]) == (False, True, "failed", "131049: not delivered")


def test_a_kept_failed_status_keeps_its_error_at_insert(ports: Ports) -> None:
    # Given a kept "failed" with its error
    box = inbox(ports)
    ports.messages.apply_status(box.connection.id, "wamid.KF", "failed", "131049: not delivered")
    # When the message is inserted read
    put(ports, box, message("wamid.KF", status="read"))
    # Then it is failed with the error
    kept = stored_message(ports, box, "wamid.KF")
    assert (kept["status"], kept["error"]) == ("failed", "131049: not delivered")


@pytest.mark.parametrize("order", list(itertools.permutations(["insert", "delivered", "read"])), ids=str)
def test_statuses_and_the_insert_end_the_same_in_any_order(ports: Ports, order: tuple[str, ...]) -> None:
    # Given a conversation
    box = inbox(ports)
    # When the message (sent) and its "delivered" and "read" arrive in this order
    for step in order:
        if step == "insert":
            put(ports, box, message("wamid.ORD", status="sent"), history=True)
        else:
            ports.messages.apply_status(box.connection.id, "wamid.ORD", step, None)
    # Then it is read, counted once
    assert stored_message(ports, box, "wamid.ORD")["status"] == "read"
    assert message_count(ports, box.conversation_id) == 1
    assert stored(ports, box.connection.id).history.messages_imported == 1


def test_a_history_import_completes_kept_statuses_and_counts_them_once(ports: Ports) -> None:
    # Given a kept "read" of one message of a chunk
    box = inbox(ports)
    ports.messages.apply_status(box.connection.id, "wamid.H2", "read", None)
    threads = [
        ThreadImport(
            conversation_id=box.conversation_id,
            lead_id=box.lead.lead.id,
            messages=[message("wamid.H1", 1, status="delivered"), message("wamid.H2", 2, status="delivered")],
        )
    ]
    # When the chunk is imported, twice
    first = ports.messages.import_history(box.organization_id, box.connection.id, threads)
    again = ports.messages.import_history(box.organization_id, box.connection.id, threads)
    # Then both messages are imported and counted once, the kept one read
    assert (first, again) == (HistoryImportResult(2, 1), HistoryImportResult(0, 0))
    assert [(m.id, m.status) for m in ports.reader.all_messages(box.conversation_id)] == [
        ("wamid.H1", "delivered"),
        ("wamid.H2", "read"),
    ]
    assert stored(ports, box.connection.id).history.messages_imported == 2


def test_a_kept_status_is_not_a_message_to_revoke_or_fill(ports: Ports) -> None:
    # Given kept statuses of two messages not stored yet
    box = inbox(ports)
    ports.messages.apply_status(box.connection.id, "wamid.KD", "delivered", None)
    ports.messages.apply_status(box.connection.id, "wamid.KM", "delivered", None)
    # When a revoke and a media fill name them
    deleted = ports.messages.mark_deleted(box.connection.id, "wamid.KD")
    filled = ports.messages.fill_media(box.connection.id, "wamid.KM", "image", {"id": "m1"}, None)
    # Then neither applies (the revoke keeps a tombstone instead, which completes the stub)
    assert (deleted, filled) == (False, False)
    tombstone = put(ports, box, message("wamid.KD", kind=REVOKED_TYPE, body=None, deleted=True))
    kept = stored_message(ports, box, "wamid.KD")
    assert (tombstone, kept["deleted"], kept["status"]) == (True, True, "delivered")


def test_a_tombstone_takes_its_history_message_content_and_counts_it_in_history_only(ports: Ports) -> None:
    # Given a live revoke's tombstone (the customer deleted the message before its history came)
    box = inbox(ports)
    put(ports, box, message("wamid.TOMB", 5, kind=REVOKED_TYPE, body=None, deleted=True, source=MessageSource.LIVE))
    # When the history chunk with the message is imported, twice (and a placeholder that met a tombstone)
    thread = ThreadImport(
        box.conversation_id,
        box.lead.lead.id,
        [message("wamid.TOMB", 1, body="apagada depois", status="read"), placeholder("wamid.TOMB2", 2)],
    )
    put(ports, box, message("wamid.TOMB2", 6, kind=REVOKED_TYPE, body=None, deleted=True, source=MessageSource.LIVE))
    first = ports.messages.import_history(box.organization_id, box.connection.id, [thread])
    again = ports.messages.import_history(box.organization_id, box.connection.id, [thread])
    # Then each is its history message, still deleted; the conversation counts each once and the
    # history counters count them now
    found = stored_message(ports, box, "wamid.TOMB")
    assert (found["type"], found["body"], found["deleted"], found["status"]) == ("text", "apagada depois", True, "read")
    assert stored_message(ports, box, "wamid.TOMB2")["type"] == MEDIA_PLACEHOLDER_TYPE
    assert (first.new_messages, again.new_messages, message_count(ports, box.conversation_id)) == (0, 0, 2)
    state = stored(ports, box.connection.id)
    assert (state.history.messages_imported, state.history_inbound, state.history.media_pending) == (2, 2, 1)
