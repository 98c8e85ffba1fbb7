"""Replies from the ticket (CONTRACT §7a, §8.12-8.14).

:class:`ReplyDesk` is ``POST /tickets/{id}/messages``: every refusal of the contract before anything is
stored, then the reply stored ``pending`` under its ``clientMessageId`` (the same key, the same
reply) and its send queued in its conversation's order. :class:`ReplySender` is the outbox's
function: each reply sent to Meta once, then ``accepted`` with its wamid, ``failed`` with Meta's
reason, or ``unknown`` when the answer may have been lost (never sent again by itself).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from whatrack.domain.clock import utcnow
from whatrack.domain.connections import ConnectionStatus, plausible_id
from whatrack.domain.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    RuleViolationError,
    TransientError,
    UpstreamError,
)
from whatrack.domain.inbox import TicketStatus, recipient_of
from whatrack.domain.messages import Direction, MessageSource, NewMessage
from whatrack.domain.replies import (
    Reply,
    ReplyHeldError,
    ReplyJob,
    ReplyRequest,
    ReplyState,
    SendLater,
    accepted_message,
    client_message_id,
    reply_error,
    reply_record,
    send_payload,
)
from whatrack.domain.templates import rendered

if TYPE_CHECKING:
    from whatrack.domain.inbox import Ticket
    from whatrack.domain.messages import Message
    from whatrack.ports import ConnectionRepository, GraphApi, MessageRepository, MetricsRecorder, TokenVault
    from whatrack.ports.accounts import InboxChanges
    from whatrack.ports.inbox import TicketRepository
    from whatrack.ports.reads import InboxReader
    from whatrack.ports.replies import ReplyOutbox, ReplyStore, SendPacer
    from whatrack.services.templates import TemplateCatalog

logger = Logger(child=True)


class ReplyDesk:
    def __init__(
        self,
        *,
        connections: ConnectionRepository,
        reader: InboxReader,
        messages: MessageRepository,
        tickets: TicketRepository,
        replies: ReplyStore,
        outbox: ReplyOutbox,
        templates: TemplateCatalog,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._connections = connections
        self._reader = reader
        self._messages = messages
        self._tickets = tickets
        self._replies = replies
        self._outbox = outbox
        self._templates = templates
        self._clock = clock

    def accept(self, organization_id: str, ticket_id: str, idempotency_key: str, request: ReplyRequest) -> Message:
        """Store the reply ``pending`` and queue its send. A key seen before answers what it answered
        (read only when the insert finds it, or before a refusal: a retry after the ticket closed
        still gets its reply)."""
        ticket = self._reader.ticket(ticket_id) if plausible_id(ticket_id) else None
        if ticket is None or ticket.organization_id != organization_id:
            raise NotFoundError(f"ticket {ticket_id} not found")
        client_id = client_message_id(organization_id, ticket.id, idempotency_key)
        try:
            to = self._recipient(ticket, request)
        except DomainError:
            kept = self._replies.get(ticket.connection_id, client_id)
            if kept is not None:
                return self._again(kept, request, ticket.id)
            raise
        now = self._clock()
        new = NewMessage(
            wamid=client_id,
            direction=Direction.OUTBOUND,
            source=MessageSource.AGENT,
            type=request.kind,
            timestamp=now,
            body=request.text if request.template is None else self._template_text(organization_id, ticket, request),
            status=ReplyState.PENDING.value,
            reply_to_id=request.reply_to_id,
            reply=reply_record(request, to),
        )
        try:
            inserted = self._messages.insert(organization_id, ticket.connection_id, ticket.conversation_id, new)
        except TransientError:  # e.g. its conversation merged meanwhile: a retry of a stored reply still gets it
            kept = self._replies.get(ticket.connection_id, client_id)
            if kept is None:
                raise
            return self._again(kept, request, ticket.id)
        if not inserted:
            kept = self._replies.get(ticket.connection_id, client_id)  # the same key, before or at the same time
            if kept is None:
                raise TransientError(f"reply {client_id} was neither stored nor found")
            return self._again(kept, request, ticket.id)
        self._queue(organization_id, ticket.connection_id, ticket.conversation_id, client_id)
        self._tickets.moved(ticket.id, now)  # after the queue: a failure here leaves a reply that goes anyway
        logger.info("reply accepted", extra={"ticket_id": ticket.id, "kind": request.kind})
        return accepted_message(new, ticket.conversation_id)

    def _recipient(self, ticket: Ticket, request: ReplyRequest) -> str:
        """Whom the reply goes to (the lead's WhatsApp id), after every refusal of the contract."""
        if ticket.status is not TicketStatus.OPEN:
            raise ConflictError("the ticket is closed", code="ticket_closed")
        connection = self._connections.get(ticket.connection_id)
        if connection is None or connection.connection_status is not ConnectionStatus.ACTIVE:
            raise RuleViolationError("the number is disconnected from Meta", code="connection_disconnected")
        if connection.access_token_secret_id is None:
            raise RuleViolationError("this number has no access token to send with", code="no_access_token")
        window = ticket.customer_service_window_ends_at
        if request.template is None and (window is None or window <= self._clock()):
            raise RuleViolationError(
                "Meta's customer service window is closed: only a template can be sent",
                code="customer_service_window_closed",
            )
        if request.reply_to_id is not None:
            quoted = self._reader.message(ticket.connection_id, request.reply_to_id)
            if quoted is None or quoted.conversation_id != ticket.conversation_id:
                raise RuleViolationError("replyToId is not a message of this conversation", code="unknown_reply_target")
        # kept on the ticket when it opened; a lead known then only by its user id (BSUID) is read again
        to = ticket.recipient
        if to is None:
            lead = self._reader.lead(ticket.lead_id)
            to = recipient_of(lead) if lead is not None else None
        if not to:
            raise RuleViolationError("the lead has no WhatsApp number to send to", code="no_recipient")
        return to

    def _again(self, kept: Reply, request: ReplyRequest, ticket_id: str) -> Message:
        """The same key: the same reply (its send queued again while it is pending: the first job may
        not have gone out; the outbox sends it once), or a conflict when the request differs."""
        if kept.request.fingerprint != request.fingerprint:
            raise ConflictError("this Idempotency-Key was used for another message", code="idempotency_key_reused")
        if kept.state is ReplyState.PENDING:
            self._queue(kept.organization_id, kept.connection_id, kept.conversation_id, kept.client_message_id)
        message = self._message(kept.connection_id, kept.client_message_id)
        # a retry after a failure past the insert: the ticket's latest message is moved all the same
        # (a conditional forward move: the first time, or nothing)
        self._tickets.moved(ticket_id, message.timestamp)
        return message

    def _queue(self, organization_id: str, connection_id: str, conversation_id: str, client_id: str) -> None:
        self._outbox.enqueue(
            ReplyJob(
                connection_id=connection_id,
                organization_id=organization_id,
                conversation_id=conversation_id,
                client_message_id=client_id,
            )
        )

    def _message(self, connection_id: str, client_id: str) -> Message:
        message = self._reader.message(connection_id, client_id)
        if message is None:
            raise TransientError(f"reply {client_id} is not readable yet")
        return message

    def _template_text(self, organization_id: str, ticket: Ticket, request: ReplyRequest) -> str | None:
        """The text the customer reads, when the template is known (else the timeline names it)."""
        assert request.template is not None
        try:
            approved = self._templates.approved(organization_id, ticket.connection_id)
        except DomainError as exc:  # Graph unavailable: sent anyway, Meta knows its templates
            logger.warning("templates unavailable for the reply's text", extra={"error": str(exc)})
            return None
        for template in approved:
            if (template.name, template.language) == (request.template.name, request.template.language):
                return rendered(template.body, request.template.parameters) if template.body else None
        return None


class ReplySender:
    """The outbox's function: one send per reply, in its conversation's order (the queue's)."""

    def __init__(
        self,
        *,
        replies: ReplyStore,
        connections: ConnectionRepository,
        tokens: TokenVault,
        graph: GraphApi,
        metrics: MetricsRecorder,
        lease: timedelta,
        pacer: SendPacer,
        changes: InboxChanges | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._pacer = pacer
        self._changes = changes
        self._sleep = sleep
        self._replies = replies
        self._connections = connections
        self._tokens = tokens
        self._graph = graph
        self._metrics = metrics
        self._lease = lease
        self._clock = clock

    def send(self, job: ReplyJob) -> ReplyState | None:
        """The reply's ending (``None``: nothing to send: sent already, or perhaps sent and ``unknown``).

        Everything that may fail is read before the reply is held: a hold that runs out means a send
        that may have reached Meta (``unknown``), never a token read or a bug of ours before it."""
        connection = self._connections.get(job.connection_id)
        token = (
            self._tokens.read(connection.access_token_secret_id)
            if connection is not None and connection.access_token_secret_id is not None
            else None
        )
        # the slot before the hold, like every read that may fail: a hold that runs out must mean a send
        # that may have reached Meta (a duplicate job takes a slot it does not use: a rare 54 ms)
        if connection is not None and token is not None:
            self._take_slot(job, connection.phone_number_id)
        reply = self._claim(job)
        if reply is None:
            return None
        if connection is None or token is None:
            return self._end(job, ReplyState.FAILED, error=reply_error("no_access_token", "the number has no token"))
        try:
            payload = send_payload(str(reply.extra.get("to") or ""), reply.request, job.client_message_id)
        except Exception:
            self._replies.release(job.connection_id, job.client_message_id, reply_error("internal", "our error"))
            self._metrics.count("ReplyInternalErrors")
            raise
        try:
            wamid = self._graph.send_message(connection.phone_number_id, token, payload)
        except UpstreamError as exc:
            error = reply_error(exc.meta_code or exc.status or "graph", exc.message)
            if exc.answer_lost:  # it may have reached Meta: never sent again by itself
                return self._end(job, ReplyState.UNKNOWN, error=error)
            if exc.definite:
                return self._end(job, ReplyState.FAILED, error=error)
            self._replies.release(job.connection_id, job.client_message_id, error)
            raise SendLater(f"reply {job.client_message_id} not sent yet: {exc}", exc.meta_code) from exc
        return self._end(job, ReplyState.ACCEPTED, wamid=wamid)

    def _take_slot(self, job: ReplyJob, phone_number_id: str) -> None:
        """Wait for this send's slot of the number's pace (Meta's throughput), or for later when the
        number's next free slot is further than the pace lets a send wait here."""
        now = self._clock().timestamp()
        start = self._pacer.reserve(phone_number_id, now)
        if start is None:
            wait = self._pacer.next_free(phone_number_id, now) - now
            raise SendLater(
                f"reply {job.client_message_id} waits for its number's pace ({wait:.1f} s)",
                None,
                after=max(1, math.ceil(wait)),
            )
        if start > now:
            self._sleep(start - now)

    def give_up(self, job: ReplyJob) -> bool:
        """A dead letter: every attempt failed with something that might have healed: ``failed``."""
        reply = self._claim(job)
        if reply is None:
            return False
        error = reply.error or reply_error("retries_exhausted", "Meta kept refusing for now; send again")
        settled = self._replies.settle(job.connection_id, job.client_message_id, ReplyState.FAILED, error=error)
        self._changed(job)
        return settled

    def _changed(self, job: ReplyJob) -> None:
        """The ticket's screens show the ending from now on. Best effort, after the settle and on its own
        (not in its transaction: the connection item is the number's busiest, and a conflict there must
        never turn a reply Meta accepted into a retry): a bump lost only delays the screens to the
        number's next change, and the reply's own statuses follow within seconds."""
        if self._changes is None:
            return
        try:
            self._changes.changed(job.connection_id)
        except Exception:
            logger.warning("inbox activity not moved after a reply's ending", exc_info=True)

    def _claim(self, job: ReplyJob) -> Reply | None:
        now = self._clock()
        try:
            return self._replies.claim(job.connection_id, job.client_message_id, now, now + self._lease)
        except ReplyHeldError as exc:
            raise TransientError(f"the reply is being sent ({exc})") from exc

    def _end(
        self,
        job: ReplyJob,
        state: ReplyState,
        *,
        wamid: str | None = None,
        error: dict[str, str] | None = None,
    ) -> ReplyState:
        self._replies.settle(job.connection_id, job.client_message_id, state, wamid=wamid, error=error)
        self._changed(job)
        self._metrics.count(f"Replies{state.value.title()}")
        logger.info("reply settled", extra={"state": state.value, "client_message_id": job.client_message_id})
        return state


class ReplySweep:
    """The watchdog's sweep of replies (§8.13: none stays ``pending`` for ever): a reply still pending
    ``after`` its acceptance (or its last sweep) has lost its job (the outbox refused it after the
    reply was stored, or the function died between the two): it is queued again. A job that was
    only slow finds it sent, or sends it: the claim sends a reply once."""

    def __init__(
        self,
        replies: ReplyStore,
        outbox: ReplyOutbox,
        *,
        after: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._replies = replies
        self._outbox = outbox
        self._after = after
        self._clock = clock

    def sweep(self, connection_id: str, now: datetime) -> int:
        requeued = 0
        for reply in self._replies.stale(connection_id, now - self._after):
            self._outbox.enqueue(
                ReplyJob(
                    connection_id=reply.connection_id,
                    organization_id=reply.organization_id,
                    conversation_id=reply.conversation_id,
                    client_message_id=reply.client_message_id,
                )
            )
            requeued += int(self._replies.requeued(connection_id, reply.client_message_id, self._clock()))
        if requeued:
            logger.warning("replies queued again", extra={"connection_id": connection_id, "requeued": requeued})
        return requeued
