"""Conversations (InboxTable): one per (lead, connection), by a deterministic id.

The conversation of a merged lead (§8.10) is retired: ``merged_into`` set, out of every list, and
no upsert or counted insert is accepted on it any more (its messages move to the survivor's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo.tables import Activity2, Gsi1, Gsi2, InboxTableItem, connection_members, conversation_key
from whatrack.adapters.dynamo.writes import get_or_none, update_if
from whatrack.domain.inbox import Conversation, conversation_id_for


class ConversationItem(InboxTableItem):
    by_lead = Gsi1()
    by_connection = Gsi2()
    by_connection_activity = Activity2()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    id = UnicodeAttribute()
    organization_id = UnicodeAttribute()
    lead_id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    last_message_at = UTCDateTimeAttribute(null=True)
    message_count = NumberAttribute(default=0)
    merged_into = UnicodeAttribute(null=True)


def not_merged() -> Any:
    """The condition every write to a live conversation carries (a retired one refuses it)."""
    return ConversationItem.merged_into.does_not_exist()


def to_conversation(item: ConversationItem) -> Conversation:
    return Conversation(
        id=item.id,
        organization_id=item.organization_id,
        lead_id=item.lead_id,
        connection_id=item.connection_id,
        created_at=item.created_at,
        last_message_at=item.last_message_at,
        message_count=int(item.message_count or 0),
    )


def upsert(
    organization_id: str, lead_id: str, connection_id: str, now: datetime, last_message_at: datetime | None
) -> tuple[list[Any], Any]:
    """The actions and condition of the (lead, connection) conversation's upsert: created if new,
    ``last_message_at`` only forward (when the condition fails there is nothing left to do), never on
    a retired conversation."""
    actions: list[Any] = [
        ConversationItem.id.set(conversation_id_for(lead_id, connection_id)),
        ConversationItem.organization_id.set(organization_id),
        ConversationItem.lead_id.set(lead_id),
        ConversationItem.connection_id.set(connection_id),
        ConversationItem.gsi1pk.set(f"LEAD#{lead_id}#CONVS"),
        ConversationItem.gsi1sk.set(connection_id),
        ConversationItem.gsi2pk.set(connection_members(connection_id)),
        ConversationItem.gsi2sk.set(lead_id),
        ConversationItem.created_at.set(ConversationItem.created_at | now),
        ConversationItem.message_count.set(ConversationItem.message_count | 0),
    ]
    if last_message_at is None:
        return actions, not_merged()
    actions.append(ConversationItem.last_message_at.set(last_message_at))
    return actions, not_merged() & (
        ConversationItem.pk.does_not_exist()
        | ConversationItem.last_message_at.does_not_exist()
        | (ConversationItem.last_message_at < last_message_at)
    )


def new_conversation_item(
    organization_id: str, lead_id: str, connection_id: str, now: datetime, last_message_at: datetime | None
) -> ConversationItem:
    """The item :func:`upsert` leaves on an absent key, whole: a new lead's conversation is written as
    a conditional put (no expression to evaluate per attribute)."""
    return ConversationItem(
        *conversation_key(conversation_id_for(lead_id, connection_id)),
        id=conversation_id_for(lead_id, connection_id),
        organization_id=organization_id,
        lead_id=lead_id,
        connection_id=connection_id,
        gsi1pk=f"LEAD#{lead_id}#CONVS",
        gsi1sk=connection_id,
        gsi2pk=connection_members(connection_id),
        gsi2sk=lead_id,
        created_at=now,
        message_count=0,
        last_message_at=last_message_at,
    )


class DynamoConversationRepository:
    def ensure(
        self, organization_id: str, lead_id: str, connection_id: str, now: datetime, last_message_at: datetime | None
    ) -> str:
        """Upsert the (lead, connection) conversation and move ``last_message_at`` forward: one request.

        With a message time the upsert is conditional on being newer (or new); when the condition
        fails the conversation exists already with a later message, so nothing is left to do.
        """
        conversation_id = conversation_id_for(lead_id, connection_id)
        actions, condition = upsert(organization_id, lead_id, connection_id, now, last_message_at)
        update_if(ConversationItem(*conversation_key(conversation_id)), actions, condition, "conversation upsert")
        return conversation_id

    def last_message_at(self, conversation_id: str) -> datetime | None:
        item = get_or_none(ConversationItem, conversation_key(conversation_id), consistent_read=True)
        return None if item is None else item.last_message_at

    def retire(self, conversation_id: str, into: str) -> Conversation | None:
        """§8.10: out of its lead's and its connection's lists, refusing new messages; its state, or
        ``None`` when there is no such conversation."""
        item = ConversationItem(*conversation_key(conversation_id))
        actions = [
            ConversationItem.merged_into.set(into),
            ConversationItem.gsi1pk.remove(),
            ConversationItem.gsi1sk.remove(),
            ConversationItem.gsi2pk.remove(),
            ConversationItem.gsi2sk.remove(),
        ]
        condition = ConversationItem.id.exists() & (
            ConversationItem.merged_into.does_not_exist() | (ConversationItem.merged_into == into)
        )
        return to_conversation(item) if update_if(item, actions, condition, "conversation merge") else None
