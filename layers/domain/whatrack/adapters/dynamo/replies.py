"""Replies on their message items (InboxTable, ``MSG#<connection>#<clientMessageId>``).

The reply's own state is the message's ``status`` (``pending`` → ``accepted`` | ``failed`` |
``unknown``), what every move is conditional on; ``send_lease`` holds a pending reply for its one
send; ``reply_wamid`` is Meta's id once known. Meta's statuses go to ``delivery_status`` as for any
message (forward only), so the timeline shows the higher of the two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException

from whatrack.adapters.dynamo.message_items import STORED, MessageItem, reply_listing, reply_of
from whatrack.adapters.dynamo.tables import message_key
from whatrack.adapters.dynamo.writes import get_or_none, storage, update_if
from whatrack.domain.clock import iso
from whatrack.domain.errors import TransientError
from whatrack.domain.messages import STATUS_RANK
from whatrack.domain.replies import Reply, ReplyHeldError, ReplyState, request_of

_CONDITIONAL_FAILED = "ConditionalCheckFailedException"
PENDING = ReplyState.PENDING.value
_PENDING_REPLY = (MessageItem.status == PENDING) & MessageItem.reply.exists()


def reply_from(item: MessageItem) -> Reply | None:
    record = reply_of(item)
    if record is None or item.status not in ReplyState._value2member_map_:
        return None
    return Reply(
        client_message_id=item.id,
        connection_id=item.connection_id,
        organization_id=item.organization_id,
        conversation_id=item.conversation_id,
        request=request_of(record, item.body, item.reply_to_id),
        state=ReplyState(item.status),
        wamid=item.reply_wamid,
        reply_to_wamid=item.reply_to_id,
        error=record.get("error"),
        extra={"to": record.get("to")},
    )


class DynamoReplyStore:
    def get(self, connection_id: str, client_message_id: str) -> Reply | None:
        item = get_or_none(MessageItem, message_key(connection_id, client_message_id), consistent_read=True)
        return reply_from(item) if item is not None and item.reply is not None else None

    def claim(self, connection_id: str, client_message_id: str, now: datetime, lease_until: datetime) -> Reply | None:
        item = MessageItem(*message_key(connection_id, client_message_id))
        try:
            item.update(
                actions=[MessageItem.send_lease.set(int(lease_until.timestamp()))],
                condition=(MessageItem.status == PENDING)
                & MessageItem.reply.exists()
                & MessageItem.send_lease.does_not_exist(),
            )
        except PynamoDBException as exc:
            if exc.cause_response_code != _CONDITIONAL_FAILED:
                raise TransientError(f"reply claim failed ({exc.cause_response_code or type(exc).__name__})") from exc
            return self._refused(connection_id, client_message_id, now)
        return reply_from(item)

    def _refused(self, connection_id: str, client_message_id: str, now: datetime) -> Reply | None:
        """Not claimable: done already, or held. A hold past its lease is a send that died after it may
        have reached Meta: ``unknown`` (never sent again by itself)."""
        current = get_or_none(MessageItem, message_key(connection_id, client_message_id), consistent_read=True)
        if current is None or current.status != PENDING or current.send_lease is None:
            return None
        if current.send_lease >= int(now.timestamp()):
            raise ReplyHeldError(f"held until {current.send_lease}")
        update_if(
            MessageItem(*message_key(connection_id, client_message_id)),
            [
                MessageItem.status.set(ReplyState.UNKNOWN.value),
                MessageItem.send_lease.remove(),
                MessageItem.gsi2pk.remove(),
                MessageItem.gsi2sk.remove(),
            ],
            (MessageItem.status == PENDING) & (MessageItem.send_lease == current.send_lease),
            "reply unknown",
        )
        return None

    def settle(
        self,
        connection_id: str,
        client_message_id: str,
        state: ReplyState,
        *,
        wamid: str | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        """One conditional update, no read: the reply's error is an attribute of its own."""
        actions: list[Any] = [
            MessageItem.status.set(state.value),
            MessageItem.status_rank.set(STATUS_RANK[state.value]),
            MessageItem.send_lease.remove(),
            MessageItem.reply_error.set(error) if error is not None else MessageItem.reply_error.remove(),
            MessageItem.gsi2pk.remove(),
            MessageItem.gsi2sk.remove(),
        ]
        if wamid:
            actions.append(MessageItem.reply_wamid.set(MessageItem.reply_wamid | wamid))
        item = MessageItem(*message_key(connection_id, client_message_id))
        return update_if(item, actions, _PENDING_REPLY, "reply settle")

    def release(self, connection_id: str, client_message_id: str, error: dict[str, str]) -> bool:
        return update_if(
            MessageItem(*message_key(connection_id, client_message_id)),
            [MessageItem.send_lease.remove(), MessageItem.reply_error.set(error)],
            _PENDING_REPLY,
            "reply release",
        )

    def apply_status(
        self, connection_id: str, client_message_id: str, wamid: str, status: str, error: str | None
    ) -> bool:
        """True when the reply is ours (the status applied, or older than what it shows)."""
        item = MessageItem(*message_key(connection_id, client_message_id))
        ours = STORED & MessageItem.reply.exists()
        # its wamid too, when the answer that carried it was lost (or has not been stored yet)
        known = MessageItem.reply_wamid.set(MessageItem.reply_wamid | wamid)
        rank = STATUS_RANK.get(status)
        if rank is not None:
            actions: list[Any] = [known, MessageItem.delivery_status.set(status), MessageItem.delivery_rank.set(rank)]
            if error:
                actions.append(MessageItem.delivery_error.set(error))
            forward = MessageItem.delivery_rank.does_not_exist() | (MessageItem.delivery_rank < rank)
            if update_if(item, actions, ours & forward, "reply status"):
                return True  # the common case: one request
        # refused: not newer (or not a status we keep), or no such reply; still its wamid, if it had none
        if update_if(item, [known], ours & MessageItem.reply_wamid.does_not_exist(), "reply wamid"):
            return True
        found = get_or_none(MessageItem, message_key(connection_id, client_message_id), consistent_read=True)
        return found is not None and found.conversation_id is not None and found.reply is not None

    def stale(self, connection_id: str, before: datetime, limit: int = 100) -> list[Reply]:
        """Replies still ``pending`` and listed (accepted, or queued again) before ``before``, oldest first."""
        condition = MessageItem.gsi2sk < iso(before)
        with storage("pending replies"):
            items = list(MessageItem.media_listed.query(f"REPLY#{connection_id}#pending", condition, limit=limit))
        found = [reply_from(item) for item in items if item.status == PENDING]
        return [reply for reply in found if reply is not None]

    def requeued(self, connection_id: str, client_message_id: str, now: datetime) -> bool:
        """A sweep queued it again: a new place in the listing (found again only a sweep later)."""
        pk, sk = reply_listing(connection_id, client_message_id, now)
        return update_if(
            MessageItem(*message_key(connection_id, client_message_id)),
            [MessageItem.gsi2pk.set(pk), MessageItem.gsi2sk.set(sk)],
            MessageItem.status == PENDING,
            "reply requeue",
        )
