"""Conversations (InboxTable): one per (lead, connection), by a deterministic id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo.tables import Gsi1, Gsi2, InboxTableItem, connection_members, conversation_key
from whatrack.adapters.dynamo.writes import storage, update_if
from whatrack.domain.inbox import Conversation, conversation_id_for


class ConversationItem(InboxTableItem):
    by_lead = Gsi1()
    by_connection = Gsi2()
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


class DynamoConversationRepository:
    def ensure(
        self, organization_id: str, lead_id: str, connection_id: str, now: datetime, last_message_at: datetime | None
    ) -> str:
        """Upsert the (lead, connection) conversation and move ``last_message_at`` forward: one request.

        With a message time the upsert is conditional on being newer (or new); when the condition
        fails the conversation exists already with a later message, so nothing is left to do.
        """
        conversation_id = conversation_id_for(lead_id, connection_id)
        item = ConversationItem(*conversation_key(conversation_id))
        actions: list[Any] = [
            ConversationItem.id.set(conversation_id),
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
            with storage("conversation upsert"):
                item.update(actions=actions)
            return conversation_id
        actions.append(ConversationItem.last_message_at.set(last_message_at))
        update_if(
            item,
            actions,
            ConversationItem.pk.does_not_exist()
            | ConversationItem.last_message_at.does_not_exist()
            | (ConversationItem.last_message_at < last_message_at),
            "conversation upsert",
        )
        return conversation_id
