"""The status API's read side: paginated index queries mapped to read models (no scans).

Cursors are the index's ``LastEvaluatedKey``, base64url-encoded; a cursor is accepted only for
the same partition it came from, so one organization's cursor can never read another's data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo.activity import activity_page, nothing
from whatrack.adapters.dynamo.conversations import ConversationItem, to_conversation
from whatrack.adapters.dynamo.cursors import decode_cursor, encode_cursor
from whatrack.adapters.dynamo.history_sync import ChunkItem
from whatrack.adapters.dynamo.leads import MAX_REDIRECTS, GuardItem, LeadItem, to_lead
from whatrack.adapters.dynamo.message_items import MessageItem, to_message
from whatrack.adapters.dynamo.tables import (
    Gsi1,
    Gsi2,
    InboxTableItem,
    LogTableItem,
    MarkerItem,
    connection_members,
    conversation_key,
    lead_key,
    marker_key,
    message_key,
    phone_guard_key,
    ticket_key,
)
from whatrack.adapters.dynamo.tickets import TicketItem, to_ticket
from whatrack.adapters.dynamo.writes import get_or_none, storage
from whatrack.domain.clock import parse_iso
from whatrack.domain.history import ChunkRecord, ChunkStatus
from whatrack.domain.identity import canonical_phone
from whatrack.domain.inbox import Conversation, Lead, LeadSource, Ticket, conversation_id_for
from whatrack.domain.log import LogKind, LogRecord
from whatrack.domain.messages import Message
from whatrack.domain.paging import Page


class MemberItem(InboxTableItem):
    """What a connection's lead list reads from ``gsi2``: conversations and contact markers alike."""

    by_connection = Gsi2()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    last_message_at = UTCDateTimeAttribute(null=True)  # a conversation's; a contact marker has none


class LogEntryItem(LogTableItem):
    """Webhook and audit entries share ``gsi1`` (per connection): what both have, all optional."""

    by_connection = Gsi1()
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


def to_log_record(item: LogEntryItem) -> LogRecord:
    return LogRecord(
        id=item.id or item.pk,
        at=parse_iso(item.at) or datetime.min,
        kind=LogKind.AUDIT if item.kind == LogKind.AUDIT.value else LogKind.WEBHOOK,
        field=item.field,
        event=item.event,
        status=item.status,
        error=item.error,
        archive_key=item.archive_key,
    )


def to_chunk_record(item: ChunkItem) -> ChunkRecord:
    return ChunkRecord(
        phase=int(item.phase),
        chunk_order=int(item.chunk_order),
        progress=int(item.progress),
        threads=int(item.threads or 0),
        messages=int(item.messages or 0),
        received_at=item.received_at,
        status=ChunkStatus(item.status) if item.status in ChunkStatus._value2member_map_ else ChunkStatus.PENDING,
    )


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
    with storage("list query"):
        items = [convert(item) for item in results]
        return Page(items, encode_cursor(results.last_evaluated_key))


def _survivors(leads: dict[str, LeadItem]) -> dict[str, LeadItem]:
    """§8.10: each merged lead of a connection's list (a contact marker of its own) replaced by the
    lead it became (one more batch read, only when the page holds merged leads)."""
    merged = {i: lead.merged_into for i, lead in leads.items() if lead.merged_into}
    if not merged:
        return {}
    wanted = {i for i in merged.values() if i not in leads}
    found = {lead.id: lead for lead in LeadItem.batch_get([lead_key(i) for i in wanted])} if wanted else {}
    both = leads | found
    return {old: both[new] for old, new in merged.items() if new in both and not both[new].merged_into}


REST_PAGE = 200
"""Items read a request by a list's filtered rest (``?sort=activity``): DynamoDB filters after its
``Limit``, so a page of 1 would walk the messaged leads one request each."""


def _member_lead_ids(
    partition: str, below: str | None, limit: int, condition: Any = None, *, page_size: int | None = None
) -> tuple[list[str], bool]:
    """Up to ``limit`` lead ids of a connection's members (conversations and contact markers,
    ``gsi2sk`` = ``<lead id>[#CONTACT]``) below ``below``, newest first, each once; and whether more follow."""
    lead_ids: list[str] = []
    more, last_key = False, None
    with storage("leads of connection"):
        while not more:
            results = MemberItem.by_connection.query(
                partition,
                MemberItem.gsi2sk < below if below else None,
                scan_index_forward=False,
                limit=limit + 2,
                page_size=page_size,
                filter_condition=condition,
                last_evaluated_key=last_key,
            )
            for item in results:
                lead_id = str(item.gsi2sk).split("#", 1)[0]
                if lead_ids and lead_ids[-1] == lead_id:
                    continue
                if len(lead_ids) == limit:
                    more = True
                    break
                lead_ids.append(lead_id)
            last_key = results.last_evaluated_key
            if last_key is None:
                break
    return lead_ids, more


def _leads_in_order(organization_id: str, lead_ids: list[str], source: LeadSource | None) -> list[Lead]:
    """The leads of ``lead_ids`` in that order (one batch read), each merged one as the lead it
    became, each once, of this organization and source."""
    if not lead_ids:
        return []
    with storage("leads batch read"):
        leads = {lead.id: lead for lead in LeadItem.batch_get([lead_key(i) for i in lead_ids])}
        leads |= _survivors(leads)
    in_page = [leads[i] for i in lead_ids if i in leads]
    unique = {lead.id: lead for lead in in_page if not lead.merged_into}
    return [
        to_lead(lead)
        for lead in unique.values()
        if lead.organization_id == organization_id and (source is None or lead.source == source.value)
    ]


# --------------------------------------------------------------------------- reader
class DynamoReader:
    """Every list is one index query (plus point reads); none scans a table."""

    # leads
    def lead(self, lead_id: str) -> Lead | None:
        """A merged lead's id reaches the lead it became (§8.10)."""
        item = get_or_none(LeadItem, lead_key(lead_id))
        for _ in range(MAX_REDIRECTS):
            if item is None or not item.merged_into:
                break
            item = get_or_none(LeadItem, lead_key(item.merged_into))
        return None if item is None or item.merged_into else to_lead(item)

    def leads(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        source: LeadSource | None = None,
        connection_id: str | None = None,
        phone_number: str | None = None,
        by_activity: bool = False,
    ) -> Page[Lead]:
        if phone_number is not None:
            return Page(self._leads_by_phone(organization_id, phone_number, source, connection_id), None)
        if by_activity:
            return self._leads_by_activity(organization_id, connection_id, limit, cursor, source)
        if connection_id is not None:
            return self._leads_of_connection(organization_id, connection_id, limit, cursor, source)
        return _paged(
            LeadItem.by_organization,
            f"ORG#{organization_id}#LEADS",
            to_lead,
            limit=limit,
            cursor=cursor,
            condition=LeadItem.source == source.value if source else None,
        )

    def _leads_by_phone(
        self, organization_id: str, phone: str, source: LeadSource | None, connection_id: str | None
    ) -> list[Lead]:
        canonical = canonical_phone(phone)
        if canonical is None:
            return []
        guard = get_or_none(GuardItem, phone_guard_key(organization_id, canonical))
        lead = self.lead(guard.lead_id) if guard and guard.lead_id else None
        if lead is None or (source and lead.source is not source):
            return []
        if connection_id is not None and not self._is_member(lead.id, connection_id):
            return []
        return [lead]

    def _is_member(self, lead_id: str, connection_id: str) -> bool:
        if self.conversation(conversation_id_for(lead_id, connection_id)) is not None:
            return True
        return get_or_none(MarkerItem, marker_key("CONTACT", connection_id, lead_id)) is not None

    def _leads_of_connection(
        self, organization_id: str, connection_id: str, limit: int, cursor: str | None, source: LeadSource | None
    ) -> Page[Lead]:
        """Leads with a conversation on this connection or synced from its App contacts, newest lead
        first (lead ids are time-ordered); the cursor is the last lead id listed, so a lead with both
        never spans two pages; filtered by organization and source after paging."""
        partition = connection_members(connection_id)
        after = decode_cursor(cursor, "gsi2pk", partition)
        below = str(after["gsi2sk"]["S"]) if after and "gsi2sk" in after else None
        lead_ids, more = _member_lead_ids(partition, below, limit)
        found = _leads_in_order(organization_id, lead_ids, source)
        next_cursor = encode_cursor({"gsi2pk": {"S": partition}, "gsi2sk": {"S": lead_ids[-1]}}) if more else None
        return Page(found, next_cursor)

    def _leads_by_activity(
        self,
        organization_id: str,
        connection_id: str | None,
        limit: int,
        cursor: str | None,
        source: LeadSource | None,
    ) -> Page[Lead]:
        """Latest message first, then the leads never messaged, newest first (:mod:`.activity`).
        Of a connection: by the time of its conversation there; the rest are its synced contacts and
        conversations without a message yet."""
        of_source = LeadItem.source == source.value if source else None
        if connection_id is None:
            partition = f"ORG#{organization_id}#LEADS"

            def active(n: int, start: dict[str, Any] | None) -> tuple[list[Lead], dict[str, Any] | None]:
                found = LeadItem.by_activity.query(
                    partition, scan_index_forward=False, limit=n, filter_condition=of_source, last_evaluated_key=start
                )
                with storage("leads by activity"):
                    return [to_lead(lead) for lead in found], found.last_evaluated_key

            def rest(n: int, start: dict[str, Any] | None) -> tuple[list[Lead], dict[str, Any] | None]:
                quiet = LeadItem.last_message_at.does_not_exist()
                found = LeadItem.by_organization.query(
                    partition,
                    scan_index_forward=False,
                    limit=n,
                    # DynamoDB filters after its Limit: read the messaged ones it skips a page at a time
                    page_size=REST_PAGE,
                    filter_condition=quiet if of_source is None else quiet & of_source,
                    last_evaluated_key=start,
                )
                with storage("leads never messaged"):
                    return [to_lead(lead) for lead in found], found.last_evaluated_key

            return activity_page("gsi1pk", partition, limit=limit, cursor=cursor, active=active, rest=rest)

        members = connection_members(connection_id)

        def active_here(n: int, start: dict[str, Any] | None) -> tuple[list[Lead], dict[str, Any] | None]:
            found = ConversationItem.by_connection_activity.query(
                members, scan_index_forward=False, limit=n, last_evaluated_key=start
            )
            with storage("conversations by activity"):
                lead_ids = [conversation.lead_id for conversation in found]
            return _leads_in_order(organization_id, lead_ids, source), found.last_evaluated_key

        def rest_here(n: int, start: dict[str, Any] | None) -> tuple[list[Lead], dict[str, Any] | None]:
            below = str(start["gsi2sk"]["S"]) if start and "gsi2sk" in start else None
            lead_ids, more = _member_lead_ids(
                members, below, n, MemberItem.last_message_at.does_not_exist(), page_size=REST_PAGE
            )
            last = {"gsi2pk": {"S": members}, "gsi2sk": {"S": lead_ids[-1]}} if more else None
            # a synced contact who wrote is in the active part, under the lead it is now (a merged
            # contact's marker names the lead it became): checked on the leads as they are
            leads = _leads_in_order(organization_id, lead_ids, source)
            if not leads:
                return [], last
            with storage("conversations of the quiet"):
                spoken = {
                    c.lead_id
                    for c in ConversationItem.batch_get(
                        [conversation_key(conversation_id_for(lead.id, connection_id)) for lead in leads]
                    )
                    if c.last_message_at is not None
                }
            return [lead for lead in leads if lead.id not in spoken], last

        return activity_page("gsi2pk", members, limit=limit, cursor=cursor, active=active_here, rest=rest_here)

    def conversations_of(self, lead_id: str) -> list[Conversation]:
        with storage("conversations query"):
            return [to_conversation(c) for c in ConversationItem.by_lead.query(f"LEAD#{lead_id}#CONVS")]

    # conversations and messages
    def conversation(self, conversation_id: str) -> Conversation | None:
        item = get_or_none(ConversationItem, conversation_key(conversation_id))
        return None if item is None else to_conversation(item)

    def messages(self, conversation_id: str, *, limit: int, cursor: str | None, latest: bool = False) -> Page[Message]:
        page = _paged(
            MessageItem.by_conversation,
            f"CONV#{conversation_id}#MSGS",
            to_message,
            limit=limit,
            cursor=cursor,
            newest_first=latest,
        )
        return Page(page.items[::-1], page.next_cursor) if latest else page

    def all_messages(self, conversation_id: str) -> list[Message]:
        with storage("messages query"):
            return [to_message(m) for m in MessageItem.by_conversation.query(f"CONV#{conversation_id}#MSGS")]

    # tickets
    def message(self, connection_id: str, message_id: str) -> Message | None:
        """One stored message by its key (a wamid, or an agent reply's ``clientMessageId``)."""
        item = get_or_none(MessageItem, message_key(connection_id, message_id), consistent_read=True)
        return None if item is None or item.conversation_id is None else to_message(item)

    def ticket(self, ticket_id: str) -> Ticket | None:
        item = get_or_none(TicketItem, ticket_key(ticket_id), consistent_read=True)
        return None if item is None else to_ticket(item)

    def tickets(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        connection_id: str | None,
        status: str | None,
        by_activity: bool = False,
    ) -> Page[Ticket]:
        condition = TicketItem.status == status if status else None
        if by_activity:  # every ticket has a message (or its opening time): no rest
            in_organization = TicketItem.organization_id == organization_id
            index, attribute, partition = (
                (TicketItem.by_activity, "gsi1pk", f"ORG#{organization_id}#TICKETS")
                if connection_id is None
                else (TicketItem.by_connection_activity, "gsi2pk", f"CONN#{connection_id}#TICKETS")
            )
            wanted = in_organization if condition is None else in_organization & condition

            def active(n: int, start: dict[str, Any] | None) -> tuple[list[Ticket], dict[str, Any] | None]:
                found = index.query(
                    partition, scan_index_forward=False, limit=n, filter_condition=wanted, last_evaluated_key=start
                )
                with storage("tickets by activity"):
                    return [to_ticket(t) for t in found], found.last_evaluated_key

            return activity_page(attribute, partition, limit=limit, cursor=cursor, active=active, rest=nothing)
        if connection_id is None:
            return _paged(
                TicketItem.by_organization,
                f"ORG#{organization_id}#TICKETS",
                to_ticket,
                limit=limit,
                cursor=cursor,
                condition=condition,
            )
        in_organization = TicketItem.organization_id == organization_id
        return _paged(
            TicketItem.by_connection,
            f"CONN#{connection_id}#TICKETS",
            to_ticket,
            limit=limit,
            cursor=cursor,
            condition=in_organization if condition is None else in_organization & condition,
        )

    # logs and history sync
    def logs(self, connection_id: str, *, limit: int, cursor: str | None) -> Page[LogRecord]:
        return _paged(LogEntryItem.by_connection, f"CONN#{connection_id}", to_log_record, limit=limit, cursor=cursor)

    def chunks(self, connection_id: str) -> list[ChunkRecord]:
        """Sorted by (phase, chunk order): the sort key is ``CHUNK#<phase:03>#<order:06>``."""
        with storage("chunk list"):
            return [
                to_chunk_record(c) for c in ChunkItem.query(f"CONN#{connection_id}", ChunkItem.sk.startswith("CHUNK#"))
            ]
