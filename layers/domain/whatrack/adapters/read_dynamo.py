"""Query side of the status API: paginated index queries mapped to wire models (no scans).

Cursors are the index's ``LastEvaluatedKey``, base64url-encoded; a cursor is accepted only for
the same partition it came from, so one organization's cursor can never read another's data.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from whatrack.adapters.dynamo import (
    ChunkItem,
    DynamoHistorySync,
    _LogTableItem,
    bind_models,
    get_or_none,
    storage,
)
from whatrack.adapters.inbox_dynamo import (
    ConversationItem,
    GuardItem,
    LeadItem,
    MessageItem,
    TicketItem,
    conversation_id_for,
    conversation_key,
    lead_key,
    phone_guard,
    ticket_key,
)
from whatrack.api.models import (
    ChunkOut,
    ConversationSummary,
    LeadOut,
    LogEntryOut,
    MediaOut,
    MessageOut,
    TicketOut,
)
from whatrack.config import TablesMixin
from whatrack.errors import InvalidInputError
from whatrack.identity import canonical_phone
from whatrack.timeutil import parse_iso


def _index(name: str, model_name: str) -> Any:
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attrs = {
        "Meta": meta,
        f"{name}pk": UnicodeAttribute(hash_key=True),
        f"{name}sk": UnicodeAttribute(range_key=True),
    }
    return type(f"{model_name}_{name}", (GlobalSecondaryIndex,), attrs)()


class LeadView(LeadItem):
    by_organization = _index("gsi1", "LeadView")


class ConversationView(ConversationItem):
    by_lead = _index("gsi1", "ConversationView")
    by_connection = _index("gsi2", "ConversationView")


class MessageView(MessageItem):
    by_conversation = _index("gsi1", "MessageView")


class TicketView(TicketItem):
    by_organization = _index("gsi1", "TicketView")
    by_connection = _index("gsi2", "TicketView")


class LogView(_LogTableItem):
    """Webhook and audit entries share ``gsi1`` (per connection); every attribute is optional."""

    by_connection = _index("gsi1", "LogView")
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    id = UnicodeAttribute(null=True)
    at = UnicodeAttribute(null=True)
    field = UnicodeAttribute(null=True)
    event = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    archive_key = UnicodeAttribute(null=True)
    rank = NumberAttribute(null=True)


def bind_views(settings: TablesMixin) -> None:
    bind_models((LeadView, ConversationView, MessageView, TicketView), settings.inbox_table_name)
    bind_models((LogView,), settings.log_table_name)


# --------------------------------------------------------------------------- cursors
def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, partition_attribute: str, partition: str) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("cursor is not valid", code="invalid_cursor") from exc
    valid = (
        isinstance(key, dict)
        and all(isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), str) for v in key.values())
        and key.get(partition_attribute, {}).get("S") == partition
    )
    if not valid:
        raise InvalidInputError("cursor does not belong to this list", code="invalid_cursor")
    return dict(key)


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_cursor: str | None


def _page[T](results: Any, convert: Callable[[Any], T]) -> Page[T]:
    with storage("list query"):
        items = [convert(item) for item in results]
        return Page(items, encode_cursor(results.last_evaluated_key))


def _paged[T](
    index: Any,
    partition: str,
    convert: Callable[[Any], T],
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = True,
    condition: Any = None,
) -> Page[T]:
    """One page of one index partition (the cursor must come from the same partition)."""
    partition_attribute = index.Meta.index_name + "pk"
    results = index.query(
        partition,
        scan_index_forward=not newest_first,
        limit=limit,
        filter_condition=condition,
        last_evaluated_key=decode_cursor(cursor, partition_attribute, partition),
    )
    return _page(results, convert)


# --------------------------------------------------------------------------- mapping
def lead_out(item: LeadItem) -> LeadOut:
    return LeadOut(
        id=item.id,
        organization_id=item.organization_id,
        phone_number=item.phone_number,
        wa_id=item.wa_id,
        user_id=item.user_id,
        push_name=item.push_name,
        source=item.source,
        is_active=bool(item.is_active),
        has_history=bool(item.has_history),
        created_at=item.created_at,
        last_message_at=item.last_message_at,
        last_synced_at=item.last_synced_at,
        deleted_at=item.deleted_at,
    )


def message_out(item: MessageItem) -> MessageOut:
    media = item.media if isinstance(item.media, dict) else None
    return MessageOut(
        id=item.id,
        conversation_id=item.conversation_id,
        direction=item.direction,
        source=item.source,
        type=item.type,
        body=item.body,
        timestamp=item.timestamp,
        status=item.status,
        history_status=item.history_status,
        media=MediaOut(id=media.get("id"), mime_type=media.get("mimeType"), caption=media.get("caption"))
        if media
        else None,
        meta_confirmed_at=item.meta_confirmed_at,
        deleted=bool(item.deleted),
    )


def ticket_out(item: TicketItem) -> TicketOut:
    return TicketOut(
        id=item.id,
        organization_id=item.organization_id,
        connection_id=item.connection_id,
        lead_id=item.lead_id,
        conversation_id=item.conversation_id,
        source=item.source,
        originated_from=item.originated_from,
        stage=item.stage,
        status=item.status,
        message_window_expires_at=item.message_window_expires_at,
        created_at=item.created_at,
        last_message_at=item.last_message_at,
    )


def log_out(item: LogView) -> LogEntryOut:
    return LogEntryOut(
        id=item.id or item.pk,
        at=parse_iso(item.at) or datetime.min,
        kind="audit" if item.kind == "audit" else "webhook",
        field=item.field,
        event=item.event,
        status=item.status,
        error=item.error,
        archive_key=item.archive_key,
    )


def chunk_out(item: ChunkItem) -> ChunkOut:
    status = item.status if item.status in ("processed", "failed", "pending") else "pending"
    return ChunkOut(
        phase=int(item.phase),
        chunk_order=int(item.chunk_order),
        progress=int(item.progress),
        threads=int(item.threads or 0),
        messages=int(item.messages or 0),
        received_at=item.received_at,
        status=status,
    )


# --------------------------------------------------------------------------- reader
class DynamoReader:
    """Every list is one index query (plus point reads); none scans a table."""

    def __init__(self, sync: DynamoHistorySync | None = None) -> None:
        self._sync = sync or DynamoHistorySync()

    # leads
    def lead(self, lead_id: str) -> LeadItem | None:
        with storage("lead get"):
            return get_or_none(LeadView, lead_key(lead_id))

    def leads(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        source: str | None = None,
        connection_id: str | None = None,
        phone_number: str | None = None,
    ) -> Page[LeadOut]:
        if phone_number is not None:
            return Page(self._leads_by_phone(organization_id, phone_number, source, connection_id), None)
        if connection_id is not None:
            return self._leads_of_connection(organization_id, connection_id, limit, cursor, source)
        condition = LeadView.source == source if source else None
        return _paged(
            LeadView.by_organization,
            f"ORG#{organization_id}#LEADS",
            lead_out,
            limit=limit,
            cursor=cursor,
            condition=condition,
        )

    def _leads_by_phone(
        self, organization_id: str, phone: str, source: str | None, connection_id: str | None
    ) -> list[LeadOut]:
        canonical = canonical_phone(phone)
        if canonical is None:
            return []
        with storage("lead lookup"):
            guard = get_or_none(GuardItem, phone_guard(organization_id, canonical))
        lead = self.lead(guard.lead_id) if guard and guard.lead_id else None
        if lead is None or (source and lead.source != source):
            return []
        if connection_id is not None:
            with storage("conversation get"):
                if get_or_none(ConversationView, conversation_key(conversation_id_for(lead.id, connection_id))) is None:
                    return []
        return [lead_out(lead)]

    def _leads_of_connection(
        self, organization_id: str, connection_id: str, limit: int, cursor: str | None, source: str | None
    ) -> Page[LeadOut]:
        """Leads with a conversation on this connection, newest lead first (lead ids are time-ordered)."""
        partition = f"CONN#{connection_id}#CONVS"
        results = ConversationView.by_connection.query(
            partition,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, "gsi2pk", partition),
        )
        with storage("leads of connection"):
            conversations = list(results)
            next_key = results.last_evaluated_key
            leads = {lead.id: lead for lead in LeadView.batch_get([lead_key(c.lead_id) for c in conversations])}
        found = [
            lead_out(leads[c.lead_id])
            for c in conversations
            if c.lead_id in leads
            and leads[c.lead_id].organization_id == organization_id
            and (source is None or leads[c.lead_id].source == source)
        ]
        return Page(found, encode_cursor(next_key))

    def conversations_of(self, lead_id: str) -> list[ConversationSummary]:
        with storage("conversations query"):
            return [
                ConversationSummary(
                    id=c.id,
                    connection_id=c.connection_id,
                    last_message_at=c.last_message_at,
                    message_count=int(c.message_count or 0),
                )
                for c in ConversationView.by_lead.query(f"LEAD#{lead_id}#CONVS")
            ]

    # conversations and messages
    def conversation(self, conversation_id: str) -> ConversationItem | None:
        with storage("conversation get"):
            return get_or_none(ConversationView, conversation_key(conversation_id))

    def messages(self, conversation_id: str, *, limit: int, cursor: str | None) -> Page[MessageOut]:
        return _paged(
            MessageView.by_conversation,
            f"CONV#{conversation_id}#MSGS",
            message_out,
            limit=limit,
            cursor=cursor,
            newest_first=False,
        )

    def all_messages(self, conversation_id: str) -> list[MessageOut]:
        with storage("messages query"):
            return [message_out(m) for m in MessageView.by_conversation.query(f"CONV#{conversation_id}#MSGS")]

    # tickets
    def ticket(self, ticket_id: str) -> TicketItem | None:
        with storage("ticket get"):
            return get_or_none(TicketView, ticket_key(ticket_id), consistent_read=True)

    def tickets(
        self, organization_id: str, *, limit: int, cursor: str | None, connection_id: str | None, status: str | None
    ) -> Page[TicketOut]:
        condition = TicketView.status == status if status else None
        if connection_id is None:
            return _paged(
                TicketView.by_organization,
                f"ORG#{organization_id}#TICKETS",
                ticket_out,
                limit=limit,
                cursor=cursor,
                condition=condition,
            )
        in_organization = TicketView.organization_id == organization_id
        return _paged(
            TicketView.by_connection,
            f"CONN#{connection_id}#TICKETS",
            ticket_out,
            limit=limit,
            cursor=cursor,
            condition=in_organization if condition is None else in_organization & condition,
        )

    # logs and history sync
    def logs(self, connection_id: str, *, limit: int, cursor: str | None) -> Page[LogEntryOut]:
        return _paged(LogView.by_connection, f"CONN#{connection_id}", log_out, limit=limit, cursor=cursor)

    def chunks(self, connection_id: str) -> list[ChunkOut]:
        return [chunk_out(c) for c in self._sync.chunks(connection_id)]
