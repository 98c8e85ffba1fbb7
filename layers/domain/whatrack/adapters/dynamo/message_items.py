"""The stored message (``MSG#<connection>#<wamid>`` in the InboxTable) and how the inbox shows it.

Besides the message, its key holds what may overtake it (a *stub* until the message comes): Meta's
delivery statuses (``delivery_*``), each side's latest reaction (``reaction_*``) and its edits
(``edits``, once per edit wamid in ``edit_ids``). ``to_message`` shows them all together.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from whatrack.adapters.dynamo.tables import Gsi1, Gsi2, InboxTableItem, message_key
from whatrack.domain.annotations import Annotation, Reaction, annotated
from whatrack.domain.clock import iso
from whatrack.domain.counting import media_state_of
from whatrack.domain.media import LISTED, MediaState, listed_since
from whatrack.domain.messages import STATUS_RANK, Direction, Media, Message, MessageSource, NewMessage, shown_status


class MessageItem(InboxTableItem):
    by_conversation = Gsi1()
    media_listed = Gsi2()
    """``gsi2``: ``MEDIA#<connection>#<state>`` / ``<since>#<wamid>`` while the media is in a
    ``LISTED`` state (a sweep or a retry looks for it); removed with the state's ending."""
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    media_state = UnicodeAttribute(null=True)
    media_lease = NumberAttribute(null=True)
    """Until when (unix seconds) a download holds the file: one download at a time, however often queued."""
    id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    organization_id = UnicodeAttribute()
    direction = UnicodeAttribute()
    source = UnicodeAttribute()
    type = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    content = UnicodeAttribute(null=True)
    timestamp = UTCDateTimeAttribute()
    status = UnicodeAttribute(null=True)
    status_rank = NumberAttribute(default=-1)
    history_status = UnicodeAttribute(null=True)
    media = JSONAttribute(null=True)
    meta_confirmed_at = UTCDateTimeAttribute(null=True)
    deleted = BooleanAttribute(default=False)
    error = UnicodeAttribute(null=True)
    correlation_id = UnicodeAttribute(null=True)
    delivery_status = UnicodeAttribute(null=True)
    delivery_rank = NumberAttribute(null=True)
    delivery_error = UnicodeAttribute(null=True)
    reply_to_id = UnicodeAttribute(null=True)
    forwarded = BooleanAttribute(null=True)
    reaction_in = JSONAttribute(null=True)
    reaction_in_order = UnicodeAttribute(null=True)
    reaction_out = JSONAttribute(null=True)
    reaction_out_order = UnicodeAttribute(null=True)
    reply = JSONAttribute(null=True)
    """An agent's reply (``domain.replies``): its key is its ``clientMessageId``."""
    reply_wamid = UnicodeAttribute(null=True)
    reply_error = JSONAttribute(null=True)
    """Why the reply's last send did not go (``{"code", "message"}``): written without reading ``reply``."""
    send_lease = NumberAttribute(null=True)
    """Until when (unix seconds) the outbox holds the reply for its one send."""
    edits = ListAttribute(of=UnicodeAttribute, null=True)
    """Each edit's record (``Edit.record``) as JSON, in arrival order (shown in time order)."""
    edit_ids = UnicodeSetAttribute(null=True)


def reply_of(item: MessageItem) -> dict[str, Any] | None:
    """The reply's record with its last error (kept apart: settled and released without a read)."""
    if not isinstance(item.reply, dict):
        return None
    record = dict(item.reply)
    if item.reply_error is not None or "error" not in record:
        record["error"] = item.reply_error
    return record


STORED = MessageItem.conversation_id.exists()
"""A message, not a stub holding statuses that overtook it."""


def to_message(item: MessageItem) -> Message:
    status, error = shown_status(item.status, item.error, item.delivery_status, item.delivery_error)
    message = Message(
        id=item.id,
        conversation_id=item.conversation_id,
        direction=Direction(item.direction),
        source=MessageSource(item.source),
        type=item.type,
        body=item.body,
        timestamp=item.timestamp,
        status=status,
        history_status=item.history_status,
        media=Media.stored(item.media),
        meta_confirmed_at=item.meta_confirmed_at,
        deleted=bool(item.deleted),
        error=error,
        content=item.content,
        correlation_id=item.correlation_id,
        reply_to_id=item.reply_to_id,
        forwarded=bool(item.forwarded),
        reply=reply_of(item),
        reply_wamid=item.reply_wamid,
    )
    reactions = {Direction.INBOUND: item.reaction_in, Direction.OUTBOUND: item.reaction_out}
    return annotated(message, reactions, [json.loads(str(e)) for e in item.edits or ()])


def media_listing(connection_id: str, wamid: str, state: MediaState, since: datetime) -> tuple[str, str]:
    return f"MEDIA#{connection_id}#{state.value}", f"{iso(since)}#{wamid}"


def reply_listing(connection_id: str, client_message_id: str, since: datetime) -> tuple[str, str]:
    return f"REPLY#{connection_id}#pending", f"{iso(since)}#{client_message_id}"


def media_listing_actions(connection_id: str, wamid: str, state: MediaState, since: datetime) -> list[Any]:
    """The update that gives the item its place in the media listing (``LISTED`` states), or takes it out."""
    if state not in LISTED:
        return [MessageItem.gsi2pk.remove(), MessageItem.gsi2sk.remove()]
    pk, sk = media_listing(connection_id, wamid, state, since)
    return [MessageItem.gsi2pk.set(pk), MessageItem.gsi2sk.set(sk)]


def message_item(organization_id: str, connection_id: str, conversation_id: str, message: NewMessage) -> MessageItem:
    state = media_state_of(message.media)
    since = listed_since(message.media, message.timestamp)
    listed = media_listing(connection_id, message.wamid, state, since) if state in LISTED else (None, None)
    if message.reply is not None:  # an agent's reply: listed while pending (the watchdog's sweep)
        listed = reply_listing(connection_id, message.wamid, message.timestamp)
    return MessageItem(
        *message_key(connection_id, message.wamid),
        media_state=state.value if state else None,
        gsi2pk=listed[0],
        gsi2sk=listed[1],
        gsi1pk=f"CONV#{conversation_id}#MSGS",
        gsi1sk=f"{iso(message.timestamp)}#{message.wamid}",
        id=message.wamid,
        connection_id=connection_id,
        conversation_id=conversation_id,
        organization_id=organization_id,
        direction=message.direction.value,
        source=message.source.value,
        type=message.type,
        body=message.body,
        content=message.content,
        timestamp=message.timestamp,
        status=message.status,
        status_rank=STATUS_RANK.get(message.status or "", -1),
        history_status=message.history_status,
        media=message.media,
        meta_confirmed_at=message.meta_confirmed_at,
        deleted=message.deleted,
        error=message.error,
        correlation_id=message.correlation_id,
        reply_to_id=message.reply_to_id,
        forwarded=True if message.forwarded else None,
        reply=message.reply,
    )


def annotation_update(connection_id: str, annotation: Annotation) -> tuple[MessageItem, list[Any], Any]:
    """The conditional update keeping ``annotation`` on its target's key (a stub until it comes):
    a side's reaction unless a later one is kept, an edit unless kept already."""
    item = MessageItem(*message_key(connection_id, annotation.target))
    if isinstance(annotation, Reaction):
        inbound = annotation.direction is Direction.INBOUND
        record, order = (
            (MessageItem.reaction_in, MessageItem.reaction_in_order)
            if inbound
            else (MessageItem.reaction_out, MessageItem.reaction_out_order)
        )
        actions: list[Any] = [record.set(annotation.record()), order.set(annotation.order)]
        return item, actions, order.does_not_exist() | (order < annotation.order)
    kept = json.dumps(annotation.record(), ensure_ascii=False, sort_keys=True)
    actions = [  # list_append onto the list, or onto nothing on a key that has none yet
        MessageItem.edits.set((MessageItem.edits | []).append([kept])),
        MessageItem.edit_ids.add({annotation.id}),
    ]
    return item, actions, ~MessageItem.edit_ids.contains(annotation.id)
