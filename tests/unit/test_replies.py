"""Issue 22 (CONTRACT §7a, §8.12-8.14): an agent's reply is stored at once, sent to Meta once, and moved by
Meta's answer and statuses in any order; every refusal is named before anything is sent.

The in-memory world stores the messages; the outbox's function sends through the real Graph client to
the Meta simulator in-process; status webhooks are built as Meta sends them (with our
``biz_opaque_callback_data``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devstack.meta.answers import Scripted, lost_answer, meta_error, rate_limited
from tests.builders import payloads as b
from tests.fakes import Clock, InMemoryWorld
from whatrack.domain.connections import Connection
from whatrack.domain.errors import ConflictError, NotFoundError, RuleViolationError, TransientError
from whatrack.domain.inbox import Ticket
from whatrack.domain.replies import PAIR_RATE_CODE, ReplyRequest, ReplyState, SendLater, TemplateRequest, send_backoff

CUSTOMER = "5511999991234"


@pytest.fixture
def world() -> InMemoryWorld:
    return InMemoryWorld(clock=Clock())


def open_ticket(world: InMemoryWorld) -> tuple[Connection, Ticket]:
    """A number with its token, and the ticket of a customer who just wrote (Meta's window open)."""
    token = world.graph.business(b.WABA, b.PNID)
    connection = world.connect(access_token=token)
    now = int(world.clock().timestamp())
    world.deliver(b.live("wamid.IN1", CUSTOMER, now))
    world.graph.messaging.customer_wrote(b.PNID, CUSTOMER)
    [ticket] = world.reader.tickets(
        connection.organization_id, limit=5, cursor=None, connection_id=None, status=None
    ).items
    return connection, ticket


def sends(world: InMemoryWorld) -> list[dict[str, object]]:
    return [s.body for s in world.graph.messaging.sent]


def test_a_reply_is_kept_sent_once_and_moved_by_meta_in_any_order(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    desk, sender = world.reply_desk(), world.reply_sender()
    # When the agent answers a minute later, quoting the customer's message
    world.clock.advance(minutes=1)
    shown = desk.accept(connection.organization_id, ticket.id, "key-1", ReplyRequest("Temos sim!", "wamid.IN1"))
    # Then it is in the timeline at once, pending, with its clientMessageId and no wamid yet
    assert (shown.source, shown.direction, shown.status, shown.body) == ("agent", "OUTBOUND", "pending", "Temos sim!")
    assert shown.reply_wamid is None and shown.id.startswith("wtk.")
    # and the ticket's latest message is the reply (CONTRACT §7: any source)
    moved = world.reader.ticket(ticket.id)
    assert moved is not None and moved.last_message_at == world.clock() > ticket.last_message_at
    [job] = world.outbox.take()
    # And the outbox sends it: to the customer, quoting, with our id for Meta to echo; the number's
    # open screens learn it (its activity moves once the ending is stored)
    activity = world.connections.get(connection.id).activity  # type: ignore[union-attr]
    assert sender.send(job) is ReplyState.ACCEPTED
    assert world.connections.get(connection.id).activity == activity + 1  # type: ignore[union-attr]
    [sent] = sends(world)
    assert sent["to"] == CUSTOMER and sent["context"] == {"message_id": "wamid.IN1"}
    assert sent["biz_opaque_callback_data"] == shown.id and sent["text"]["body"] == "Temos sim!"
    kept = world.reader.message(connection.id, shown.id)
    assert kept is not None and kept.status == "accepted" and kept.reply_wamid is not None
    # Meta's statuses, read before delivered and a duplicate sent last: the reply ends read
    at = int(world.clock().timestamp())
    for value in ("read", "delivered", "sent", "read"):
        world.deliver(b.status(kept.reply_wamid, value, at, callback=shown.id))
    final = world.reader.message(connection.id, shown.id)
    assert final is not None and final.status == "read"
    # the job delivered again sends nothing
    assert sender.send(job) is None and len(sends(world)) == 1


def test_the_same_key_is_the_same_reply_and_another_body_is_refused(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    desk = world.reply_desk()
    first = desk.accept(connection.organization_id, ticket.id, "k", ReplyRequest("Oi"))
    again = desk.accept(connection.organization_id, ticket.id, "k", ReplyRequest("Oi"))
    assert again.id == first.id
    # while pending, each request queues its send again (the first may not have gone out): sent once
    jobs = world.outbox.take()
    assert len(jobs) == 2
    sender = world.reply_sender()
    assert [sender.send(job) for job in jobs] == [ReplyState.ACCEPTED, None]
    assert len(sends(world)) == 1
    with pytest.raises(ConflictError) as reused:
        desk.accept(connection.organization_id, ticket.id, "k", ReplyRequest("Outra coisa"))
    assert reused.value.code == "idempotency_key_reused"
    # a new key is a new message
    assert desk.accept(connection.organization_id, ticket.id, "k2", ReplyRequest("Oi")).id != first.id


def test_every_refusal_is_named_before_anything_is_sent(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    desk = world.reply_desk()
    org = connection.organization_id

    def refused(request: ReplyRequest, key: str = "r") -> str:
        with pytest.raises((RuleViolationError, ConflictError)) as caught:
            desk.accept(org, ticket.id, key, request)
        return str(caught.value.code)

    assert refused(ReplyRequest("oi", "wamid.NOT-HERE")) == "unknown_reply_target"
    with pytest.raises(NotFoundError):
        desk.accept("another-organization", ticket.id, "r", ReplyRequest("oi"))
    # Meta's window closes 24 h after the customer's last live message: then only a template
    world.clock.advance(hours=25)
    assert refused(ReplyRequest("oi")) == "customer_service_window_closed"
    template = ReplyRequest(template=TemplateRequest("retomar", "pt_BR", ("Ana",)))
    assert desk.accept(org, ticket.id, "t", template).status == "pending"
    world.tickets.close(ticket.id, ticket.conversation_id, world.clock())
    assert refused(ReplyRequest(template=TemplateRequest("retomar", "pt_BR"))) == "ticket_closed"
    assert world.outbox.jobs and len(world.outbox.jobs) == 1  # only the template's


def test_a_template_reply_reads_as_the_customer_reads_it(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    world.graph.template(b.WABA, "retomar", body="Olá {{1}}! Seu pedido {{2}} saiu.")
    request = ReplyRequest(template=TemplateRequest("retomar", "pt_BR", ("Ana", "42")))
    shown = world.reply_desk().accept(connection.organization_id, ticket.id, "t1", request)
    assert (shown.type, shown.body) == ("template", "Olá Ana! Seu pedido 42 saiu.")
    [job] = world.outbox.take()
    assert world.reply_sender().send(job) is ReplyState.ACCEPTED
    [sent] = sends(world)
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "retomar",
        "language": {"code": "pt_BR"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "42"}]}
        ],
    }


def test_a_lost_answer_ends_unknown_is_never_sent_again_and_a_status_resolves_it(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    shown = world.reply_desk().accept(connection.organization_id, ticket.id, "lost", ReplyRequest("Oi"))
    [job] = world.outbox.take()
    world.graph.fail_next("messages", lost_answer())  # Meta took it; the connection dropped
    sender = world.reply_sender()
    assert sender.send(job) is ReplyState.UNKNOWN
    assert sender.send(job) is None  # delivered again: never re-sent
    [sent] = world.graph.messaging.sent
    unknown = world.reader.message(connection.id, shown.id)
    assert unknown is not None and (unknown.status, unknown.reply_wamid) == ("unknown", None)
    # Meta's status webhook, carrying our id, gives it its wamid and status
    world.deliver(b.status(sent.wamid, "delivered", int(world.clock().timestamp()), callback=shown.id))
    resolved = world.reader.message(connection.id, shown.id)
    assert resolved is not None and (resolved.status, resolved.reply_wamid) == ("delivered", sent.wamid)


def test_a_throttled_send_is_retried_and_a_refusal_or_a_late_failure_says_why(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    desk, sender = world.reply_desk(), world.reply_sender()
    first = desk.accept(connection.organization_id, ticket.id, "a", ReplyRequest("Um"))
    [job] = world.outbox.take()
    # throttled: Meta's 429s (the client's own tries), then an app limit answered 400 (code 80007)
    world.graph.fail_next("messages", *[rate_limited(code=130429)] * 3)
    with pytest.raises(TransientError):
        sender.send(job)  # the queue retries it, in its conversation's order
    world.graph.fail_next("messages", meta_error("(#80007) Rate limit issues", 80007))
    with pytest.raises(TransientError):
        sender.send(job)
    waiting = world.reader.message(connection.id, first.id)
    assert waiting is not None and waiting.status == "pending" and not sends(world)
    assert sender.send(job) is ReplyState.ACCEPTED
    # a definite refusal: failed with Meta's code
    second = desk.accept(connection.organization_id, ticket.id, "b", ReplyRequest("Dois"))
    [job] = world.outbox.take()
    world.graph.fail_next("messages", meta_error("(#131026) Message undeliverable", 131026))
    assert sender.send(job) is ReplyState.FAILED
    failed = world.reader.message(connection.id, second.id)
    assert failed is not None and failed.status == "failed" and (failed.reply or {})["error"]["code"] == "131026"
    # Meta's window closed after all: the 200, then a failed status 131047 with Meta's words
    kept = world.reader.message(connection.id, first.id)
    assert kept is not None and kept.reply_wamid is not None
    world.deliver(b.status(kept.reply_wamid, "failed", int(world.clock().timestamp()), 131047, callback=first.id))
    late = world.reader.message(connection.id, first.id)
    assert late is not None and late.status == "failed" and (late.error or "").startswith("131047")


def test_a_send_that_died_holding_its_reply_ends_unknown(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    shown = world.reply_desk().accept(connection.organization_id, ticket.id, "d", ReplyRequest("Oi"))
    [job] = world.outbox.take()
    now = world.clock()
    assert world.replies.claim(connection.id, shown.id, now, now + timedelta(seconds=60)) is not None  # then it died
    sender = world.reply_sender()
    with pytest.raises(TransientError):
        sender.send(job)  # still held: perhaps still sending
    world.clock.advance(seconds=61)
    assert sender.send(job) is None  # the hold ran out: perhaps sent, so never again by itself
    assert not sends(world)
    assert world.reader.message(connection.id, shown.id).status == "unknown"  # type: ignore[union-attr]


def test_a_late_status_of_a_reply_leaves_no_trace_elsewhere(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    shown = world.reply_desk().accept(connection.organization_id, ticket.id, "late", ReplyRequest("Oi"))
    [job] = world.outbox.take()
    assert world.reply_sender().send(job) is ReplyState.ACCEPTED
    wamid = world.reader.message(connection.id, shown.id).reply_wamid  # type: ignore[union-attr]
    assert wamid is not None
    at = int(world.clock().timestamp())
    world.deliver(b.status(wamid, "read", at, callback=shown.id), b.status(wamid, "sent", at, callback=shown.id))
    # the older one is ours and changes nothing: no stub of statuses at the wamid's key
    assert world.reader.message(connection.id, shown.id).status == "read"  # type: ignore[union-attr]
    assert (connection.id, wamid) not in world.db.messages


def test_a_reply_whose_job_was_lost_is_queued_again_by_the_watchdog(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    shown = world.reply_desk().accept(connection.organization_id, ticket.id, "lost-job", ReplyRequest("Oi"))
    world.outbox.take()  # the outbox refused it after the reply was stored (the client got a 5xx)
    world.clock.advance(minutes=4)
    assert world.watchdog().run().replies_requeued == 0  # its job may still be on its way
    world.clock.advance(minutes=2)
    assert world.watchdog().run().replies_requeued == 1
    [job] = world.outbox.take()
    assert world.watchdog().run().replies_requeued == 0  # listed anew: not queued twice at once
    assert world.reply_sender().send(job) is ReplyState.ACCEPTED
    world.clock.advance(minutes=10)
    assert world.watchdog().run().replies_requeued == 0  # sent: not pending any more
    assert len(sends(world)) == 1
    assert world.reader.message(connection.id, shown.id).status == "accepted"  # type: ignore[union-attr]


def test_a_200_meta_answers_with_a_body_we_cannot_read_is_never_sent_again(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    shown = world.reply_desk().accept(connection.organization_id, ticket.id, "garbled", ReplyRequest("Oi"))
    [job] = world.outbox.take()
    # a 200 whose body is a proxy's page: Meta may have taken it
    world.graph.fail_next("messages", Scripted(200, content=b"<html>gateway</html>", content_type="text/html"))
    sender = world.reply_sender()
    assert sender.send(job) is ReplyState.UNKNOWN
    assert sender.send(job) is None
    assert len(world.graph.calls_to("messages")) == 1  # posted once, never again
    assert world.reader.message(connection.id, shown.id).status == "unknown"  # type: ignore[union-attr]


def test_a_token_that_cannot_be_read_leaves_the_reply_pending_not_unknown(
    world: InMemoryWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection, ticket = open_ticket(world)
    shown = world.reply_desk().accept(connection.organization_id, ticket.id, "vault", ReplyRequest("Oi"))
    [job] = world.outbox.take()

    def throttled(secret_id: str) -> str:
        raise TransientError("Secrets Manager throttled")

    monkeypatch.setattr(world.vault, "read", throttled)
    with pytest.raises(TransientError):
        world.reply_sender().send(job)
    world.clock.advance(minutes=5)  # long past any hold
    monkeypatch.undo()
    assert world.reply_sender().send(job) is ReplyState.ACCEPTED  # never held: still sendable
    assert world.reader.message(connection.id, shown.id).status == "accepted"  # type: ignore[union-attr]


def test_a_send_that_may_heal_waits_a_little_longer_each_time() -> None:
    assert [send_backoff(n, 80007) for n in (1, 2, 3, 4, 7, 20)] == [2, 4, 8, 16, 120, 120]
    assert [send_backoff(n, PAIR_RATE_CODE) for n in (1, 2, 3)] == [6, 6, 8]  # Meta's ~1 message / 6 s per customer


def test_a_throttled_send_says_meta_code_to_the_handler(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    world.reply_desk().accept(connection.organization_id, ticket.id, "pair", ReplyRequest("Oi"))
    [job] = world.outbox.take()
    world.graph.fail_next("messages", meta_error("(#131056) Pair rate limit hit", 131056))
    with pytest.raises(SendLater) as later:
        world.reply_sender().send(job)
    assert later.value.meta_code == PAIR_RATE_CODE


def test_sends_of_one_number_keep_to_its_pace_and_wait_on_the_queue_past_it(world: InMemoryWorld) -> None:
    connection, ticket = open_ticket(world)
    desk, sender = world.reply_desk(), world.reply_sender()
    for n in range(3):
        desk.accept(connection.organization_id, ticket.id, f"pace-{n}", ReplyRequest(f"resposta {n}"))
    # When three replies go at the same moment
    assert [sender.send(job) for job in world.outbox.take()] == [ReplyState.ACCEPTED] * 3
    # Then the second and third waited one and two of the pace's intervals (18.5 a second) for their slot
    assert world.slept == pytest.approx([1 / 18.5, 2 / 18.5])

    # Given the number's slots taken as far as a send may wait for one (20 s)
    now = world.clock().timestamp()
    while world.pacer.reserve(b.PNID, now) is not None:
        pass
    desk.accept(connection.organization_id, ticket.id, "pace-late", ReplyRequest("depois"))
    [late] = world.outbox.take()
    # When its send comes, it waits on the queue until the next free slot, its reply untouched (not held)
    with pytest.raises(SendLater) as raised:
        sender.send(late)
    assert raised.value.after == 21 and raised.value.meta_code is None
    waiting = world.replies.get(connection.id, late.client_message_id)
    assert waiting is not None and waiting.state is ReplyState.PENDING and waiting.error is None
    assert len(sends(world)) == 3
    # And it goes once its time has come, once: a second job of it (a retried POST) sends nothing
    world.clock.advance(seconds=21)
    assert sender.send(late) is ReplyState.ACCEPTED and len(sends(world)) == 4
    assert sender.send(late) is None and len(sends(world)) == 4


def test_a_pace_that_fails_leaves_the_reply_free_and_never_unknown(
    world: InMemoryWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slot is taken before the reply is held: a storage failure there is retried as nothing sent,
    never a hold that runs out (which would make the reply unknown, never sent)."""
    connection, ticket = open_ticket(world)
    world.reply_desk().accept(connection.organization_id, ticket.id, "pace-fail", ReplyRequest("Oi"))
    [job] = world.outbox.take()
    sender = world.reply_sender()

    def unavailable(*_args: object) -> float | None:
        raise TransientError("pace update failed (ThrottlingException)")

    monkeypatch.setattr(world.pacer, "reserve", unavailable)
    with pytest.raises(TransientError):
        sender.send(job)
    monkeypatch.undo()
    world.clock.advance(minutes=5)  # past any hold: a held reply would now turn unknown
    assert sender.send(job) is ReplyState.ACCEPTED and len(sends(world)) == 1


def test_a_retried_key_gets_its_reply_while_the_conversation_refuses_writes(
    world: InMemoryWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection, ticket = open_ticket(world)
    desk = world.reply_desk()
    first = desk.accept(connection.organization_id, ticket.id, "merge-1", ReplyRequest("Oi"))

    # Given the conversation's writes refused for now (a lead merge moving it)
    def refused(*_args: object, **_kwargs: object) -> bool:
        raise TransientError("the conversation was retired meanwhile")

    monkeypatch.setattr(world.messages, "insert", refused)
    # When the client retries the same key, it gets the reply it has; a new key waits for the merge
    again = desk.accept(connection.organization_id, ticket.id, "merge-1", ReplyRequest("Oi"))
    assert again.id == first.id and again.status == "pending"
    with pytest.raises(TransientError):
        desk.accept(connection.organization_id, ticket.id, "merge-2", ReplyRequest("Oi"))
