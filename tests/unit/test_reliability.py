"""Issue 10: nothing acknowledged is ever lost. Each test reproduces one defect on the fakes (the
fake queue takes exactly what SQS takes: the wire encoding and SQS's character set)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tests.builders import payloads as b
from tests.fakes import InMemoryWorld
from whatrack.domain.changes import ChangeMessage, WebhookField, surely_longer_than
from whatrack.domain.errors import ConfigurationError, ForbiddenError, NotFoundError, TransientError
from whatrack.services.consumer import never_heals, reason_class

CUSTOMER = "5491166660001"
T0 = 1751400000


def statuses(world: InMemoryWorld, connection_id: str) -> dict[str | None, tuple[str | None, str | None]]:
    return {r.event: (r.status, r.error) for r in world.logs(connection_id) if r.kind == "webhook"}


# ---------------------------------------------------------------- defect 1: one bad change sinks its body


def test_changes_pydantic_cannot_write_still_travel_and_so_do_their_neighbours() -> None:
    # Given one body with an emoji cut in half, a value nested 300 levels, a noncharacter SQS
    # refuses, and an innocent neighbour
    world = InMemoryWorld()
    connection = world.connect()
    body = b.one_body(
        b.live("wamid.half", CUSTOMER, T0, body="oi \ud83d"),
        b.live_raw("wamid.deep", CUSTOMER, T0 + 1, "interactive", b.nested(300)),
        b.live("wamid.fffe", CUSTOMER, T0 + 2, body="a\ufffeb\uffff"),
        b.live("wamid.fine", CUSTOMER, T0 + 3, body="tudo bem"),
    )
    # When Meta delivers it (the fake queue refuses what SQS refuses) and the consumers run
    report = world.post(body)
    world.pump()
    # Then every change was sent and processed; what is stored is valid Unicode
    assert [e.status.value for e in report.entries] == ["routed"] * 4
    stored = world.all_messages()
    assert set(stored) == {"wamid.half", "wamid.deep", "wamid.fffe", "wamid.fine"}
    assert stored["wamid.half"].body == "oi \ufffd"
    assert stored["wamid.fffe"].body == "a\ufffeb\uffff" and stored["wamid.fine"].body == "tudo bem"
    assert [status for status, _ in statuses(world, connection.id).values()] == ["processed"]
    assert {r.status for r in world.logs(connection.id) if r.kind == "webhook"} == {"processed"}


def test_a_queue_message_is_ascii_json_that_any_archived_value_can_take() -> None:
    message = msgspec.convert(
        {
            "field": "messages",
            "log_id": "l",
            "connection_id": "c",
            "organization_id": "o",
            "archive_key": "k",
            "entry_index": 0,
            "change_index": 0,
            "received_at": "2026-11-26T00:00:00Z",
            "value": {"text": "\ud83d \ufffe 😀", "deep": b.nested(400)},
        },
        ChangeMessage,
    )
    encoded = message.encode()
    assert encoded.isascii() and "\\ud83d" in encoded and "\\ufffe" in encoded
    assert ChangeMessage.decode(encoded) == message


# ---------------------------------------------------------------- defect 4: poison is rejected, not retried


def test_a_millisecond_timestamp_is_rejected_with_its_reason_and_its_neighbour_processed() -> None:
    world = InMemoryWorld()
    connection = world.connect()
    world.post(b.one_body(b.live("wamid.ms", CUSTOMER, T0 * 1000), b.live("wamid.ok", CUSTOMER, T0)))
    world.pump()
    entries = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    by_status = {r.status: r.error for r in entries}
    assert sorted(r.status or "" for r in entries) == ["processed", "rejected"]
    assert "is not unix seconds between 2009 and 2100" in str(by_status["rejected"])
    assert set(world.all_messages()) == {"wamid.ok"}


@pytest.mark.parametrize(
    ("error", "heals"),
    [
        (TransientError("queue send failed (Throttling)"), True),
        (ConfigurationError("appSecret is not set"), True),
        (ConnectionError("reset by peer"), True),
        (RuntimeError("unknown"), True),
        (NotFoundError("connection gone"), False),
        (RecursionError("maximum recursion depth exceeded"), False),
        # a bug of ours is never filed as bad data: it is retried, dead-lettered and alarmed
        (ValueError("year 57000 is out of range"), True),
        (KeyError("id"), True),
        (TypeError("'NoneType' object is not subscriptable"), True),
        (ZeroDivisionError("division by zero"), True),
    ],
)
def test_only_errors_of_the_moment_are_retried(error: Exception, heals: bool) -> None:
    assert never_heals(error) is not heals


@pytest.mark.parametrize("bug", [KeyError("id"), TypeError("unsupported operand"), ZeroDivisionError("division")])
def test_a_bug_in_a_processor_fails_loudly_and_ends_failed_never_rejected(bug: Exception) -> None:
    # Given a processor with a bug (a KeyError deep inside, say)
    world = InMemoryWorld()
    connection = world.connect()

    def broken(message: ChangeMessage, value: dict[str, Any]) -> None:
        raise bug

    consumer = world.consumer()
    consumer._processors[WebhookField.MESSAGES] = broken
    world.post(b.live("wamid.bug", CUSTOMER, T0))
    [message] = world.publisher.sent
    # When the change is consumed: the error propagates (the record is retried by SQS) and the
    # entry keeps the attempt's error, still on its way
    with pytest.raises(type(bug)):
        consumer.consume(message)
    [entry] = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    assert (entry.status, entry.error) == ("routed", f"last attempt failed: {type(bug).__name__}: {bug}")
    # And when its retries are spent, the dead-letter consumer marks it failed (retryable from the
    # archive) and counts it for the alarm; nothing was counted as a rejection
    world.dead_letter()
    [entry] = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    assert (entry.status, world.metrics.totals["ChangesDeadLettered"]) == ("failed", 1)
    assert world.metrics.totals.get("ChangesRejected", 0) == 0


def test_a_rejection_carries_its_reason_class_and_an_unexpected_one_is_counted_for_the_alarm() -> None:
    world = InMemoryWorld()
    connection = world.connect()

    def refusing(message: ChangeMessage, value: dict[str, Any]) -> None:
        raise ForbiddenError("a consumer has no business refusing this")

    # Meta's invalid data is an expected rejection (a millisecond timestamp)...
    world.post(b.live("wamid.ms", CUSTOMER, T0 * 1000))
    world.pump()
    assert world.metrics.totals["ChangesRejected"] == 1 and "ChangesRejectedUnexpectedly" not in world.metrics.totals
    # ...a refusal no data should cause is rejected too, and counted apart (alarmed)
    consumer = world.consumer()
    consumer._processors[WebhookField.MESSAGES] = refusing
    world.post(b.live("wamid.odd", CUSTOMER, T0))
    consumer.consume(world.publisher.sent[-1])
    assert (world.metrics.totals["ChangesRejected"], world.metrics.totals["ChangesRejectedUnexpectedly"]) == (2, 1)
    assert {r.error for r in world.logs(connection.id) if r.status == "rejected"} >= {
        "a consumer has no business refusing this"
    }
    assert (reason_class(ForbiddenError("x")), reason_class(ValueError("x"))) == ("forbidden", "invalid_change")


# ---------------------------------------------------------------- defect 8: an outcome outranks transport


def test_a_redelivery_routed_again_keeps_the_consumers_rejection_and_its_reason() -> None:
    # Given a change the consumer rejected
    world = InMemoryWorld()
    connection = world.connect()
    body = b.live("wamid.ms", CUSTOMER, T0 * 1000)
    world.post(body)
    world.pump()
    # When Meta delivers the same body again (ingest routes it again) and it is consumed again
    world.post(body)
    [entry] = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    # Then the log still says rejected, with the reason, before and after the second consumption
    assert entry.status == "rejected" and "unix seconds" in str(entry.error)
    world.pump()
    [entry] = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    assert entry.status == "rejected" and "unix seconds" in str(entry.error)


def test_a_failed_change_retried_from_the_archive_ends_processed() -> None:
    world = InMemoryWorld()
    connection = world.connect()
    world.post(b.live("wamid.x", CUSTOMER, T0))
    [message] = world.publisher.sent
    world.consumer().consume_dead_letter(message)
    assert [r.status for r in world.logs(connection.id) if r.kind == "webhook"] == ["failed"]
    world.consumer().consume(message)
    assert [r.status for r in world.logs(connection.id) if r.kind == "webhook"] == ["processed"]


# ---------------------------------------------------------------- defect 3: dead letters say why


def test_a_change_that_keeps_failing_ends_failed_with_its_last_error() -> None:
    world = InMemoryWorld()
    connection = world.connect()

    def flaky(message: ChangeMessage, value: dict[str, Any]) -> None:
        raise ConnectionError("dynamodb endpoint reset")

    consumer = world.consumer()
    consumer._processors[WebhookField.MESSAGES] = flaky
    world.post(b.live("wamid.flaky", CUSTOMER, T0))
    [message] = world.publisher.sent
    with pytest.raises(ConnectionError):
        consumer.consume(message)
    [entry] = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    assert (entry.status, entry.error) == ("routed", "last attempt failed: ConnectionError: dynamodb endpoint reset")
    consumer.consume_dead_letter(message)
    [entry] = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    assert (entry.status, entry.error) == ("failed", "last attempt failed: ConnectionError: dynamodb endpoint reset")


def test_a_late_dead_letter_does_not_undo_an_outcome() -> None:
    world = InMemoryWorld()
    connection = world.connect()
    world.post(b.live("wamid.done", CUSTOMER, T0))
    [message] = world.publisher.sent
    world.consumer().consume(message)
    world.consumer().consume_dead_letter(message)
    assert [r.status for r in world.logs(connection.id) if r.kind == "webhook"] == ["processed"]


# ---------------------------------------------------------------- one bad item never sinks its change


def test_a_history_chunk_keeps_its_valid_messages_and_notes_the_invalid_ones() -> None:
    # Given a chunk where two messages of four are invalid and one has a body of the wrong type
    world = InMemoryWorld()
    connection = world.connect()
    ms = b.text("wamid.ms", CUSTOMER, T0 * 1000)
    garbage = {**b.text("wamid.nan", CUSTOMER, T0), "timestamp": "abc"}
    odd_body = {**b.text("wamid.odd", CUSTOMER, T0 + 2), "text": {"body": {"x": 1}}}
    world.post(b.chunk(0, 1, 50, b.thread(CUSTOMER, b.text("wamid.ok", CUSTOMER, T0 + 1), ms, garbage, odd_body)))
    world.pump()
    # Then the valid ones are imported (a body that is not text is no body), the others noted
    stored = world.all_messages()
    assert set(stored) == {"wamid.ok", "wamid.odd"} and stored["wamid.odd"].body is None
    [entry] = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    assert entry.status == "processed"
    assert str(entry.error).startswith("2 invalid item(s) skipped, the rest processed: messages[1] (wamid.ms)")
    assert "messages[2] (wamid.nan): timestamp" in str(entry.error)


def test_a_change_whose_every_item_is_invalid_is_rejected_with_the_reasons() -> None:
    world = InMemoryWorld()
    connection = world.connect()
    world.post(b.status("wamid.x", "delivered", T0 * 1000))
    world.pump()
    [entry] = [r for r in world.logs(connection.id) if r.kind == "webhook"]
    assert entry.status == "rejected"
    assert "every item was invalid: statuses[0] (wamid.x): timestamp" in str(entry.error)


def test_a_dead_lettered_chunk_with_an_invalid_item_still_shows_failed_in_the_chunk_list() -> None:
    world = InMemoryWorld()
    connection = world.connect()
    bad = {**b.text("wamid.nan", CUSTOMER, T0), "timestamp": "abc"}
    world.post(b.chunk(1, 7, 40, b.thread(CUSTOMER, b.text("wamid.ok", CUSTOMER, T0), bad)))
    [message] = world.publisher.sent
    world.consumer().consume_dead_letter(message)
    [chunk] = world.reader.chunks(connection.id)
    assert (chunk.phase, chunk.chunk_order, chunk.status.value) == (1, 7, "failed")


def test_an_account_update_of_a_waba_no_connection_has_is_final_not_kept_for_ever() -> None:
    # (issue 10 review: it stayed `unmatched`, a transport status nothing would ever move)
    world = InMemoryWorld()
    report = world.post(b.account_update("PARTNER_REMOVED", T0, waba_info="999000111"))
    [entry] = report.entries
    assert (entry.status.value, entry.error) == (
        "ignored",
        "no connection has this WABA: an account update is not kept",
    )


@pytest.mark.parametrize(
    "value",
    [
        {"text": "ação 😀 " * 400, "n": [1, 2.5, 1e16, -0.0, True, None]},
        {"deep": [[[{"k": "\u2028\ufeff"}]]] * 300},
    ],
)
def test_the_quick_size_bound_never_calls_a_change_that_fits_too_long(value: dict[str, Any]) -> None:
    # The orjson length is a lower bound of the ASCII encoding's (less a float's spelling): a change
    # it calls longer than twice the limit never fits, so skipping the exact encoding is safe
    encoded = len(_message(value).encode())
    assert not surely_longer_than(value, encoded)  # never more than the real length...
    assert surely_longer_than(value, encoded // 6)  # ...and not uselessly small either


def test_a_value_orjson_cannot_write_is_not_surely_anything() -> None:
    assert not surely_longer_than({"half an emoji": "\ud83d"}, 0)
    assert not surely_longer_than({"big": 2**70}, 0)


def _message(value: dict[str, Any]) -> ChangeMessage:
    return ChangeMessage(
        field=WebhookField.HISTORY,
        log_id="l",
        connection_id="c",
        organization_id="o",
        archive_key="k",
        entry_index=0,
        change_index=0,
        received_at="2026-11-26T00:00:00Z",
        value=value,
    )
