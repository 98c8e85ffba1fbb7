"""The status API's read side in memory, ordered and paged like ``DynamoReader``'s index queries.

Each list is one "partition" (the index key ``DynamoReader`` queries) sorted by the same sort-key
strings. Paging replays what PynamoDB does over DynamoDB: requests of ``limit`` items, the filter
applied after the limit, requests repeated until ``limit`` items passed it or the partition ends;
the cursor resumes after the last item returned (or after the last one read, at a request's end),
and it is ``None`` only when the partition was read to its end. A cursor is opaque and accepted only
by the partition it came from.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime

from tests.fakes.database import InMemoryDatabase, WebhookRow, sort_key
from whatrack.domain.clock import parse_iso
from whatrack.domain.errors import InvalidInputError
from whatrack.domain.history import ChunkRecord
from whatrack.domain.identity import canonical_phone
from whatrack.domain.inbox import Conversation, Lead, LeadSource, Ticket, conversation_id_for
from whatrack.domain.log import LogKind, LogRecord
from whatrack.domain.messages import Message
from whatrack.domain.paging import Page


def encode_cursor(attribute: str, partition: str, key: str | None) -> str | None:
    if key is None:
        return None
    raw = json.dumps({"a": attribute, "p": partition, "k": key}, sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, attribute: str, partition: str) -> str | None:
    """The sort key to resume after; :class:`InvalidInputError` (``invalid_cursor``) for anything
    that is not a cursor of this very partition."""
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("cursor is not valid", code="invalid_cursor") from exc
    valid = (
        isinstance(data, dict)
        and data.get("a") == attribute
        and data.get("p") == partition
        and isinstance(data.get("k"), str)
    )
    if not valid:
        raise InvalidInputError("cursor does not belong to this list", code="invalid_cursor")
    return str(data["k"])


def paged[T](
    rows: Sequence[tuple[str, T]],
    *,
    attribute: str,
    partition: str,
    limit: int,
    cursor: str | None,
    newest_first: bool = True,
    keep: Callable[[T], bool] | None = None,
) -> Page[T]:
    """One page of ``rows`` (``(sort key, item)``), as ``reader._paged`` gets it from the index."""
    start = decode_cursor(cursor, attribute, partition)
    ordered = sorted(rows, key=lambda row: row[0], reverse=newest_first)
    if start is not None:
        ordered = [row for row in ordered if (row[0] < start if newest_first else row[0] > start)]
    items: list[T] = []
    position = 0
    while True:
        request = ordered[position : position + limit]
        more = position + limit < len(ordered)
        passed = [row for row in request if keep is None or keep(row[1])]
        for index, (key, item) in enumerate(passed):
            items.append(item)
            if len(items) == limit:
                if index < len(passed) - 1:
                    return Page(items, encode_cursor(attribute, partition, key))
                return Page(items, encode_cursor(attribute, partition, request[-1][0] if more else None))
        if not more:
            return Page(items, None)
        position += limit


def _webhook_record(row: WebhookRow) -> LogRecord:
    return LogRecord(
        id=row.id,
        at=parse_iso(row.at) or datetime.min,
        kind=LogKind.WEBHOOK,
        field=row.field,
        event=row.event,
        status=row.status.value,
        error=row.error,
        archive_key=row.archive_key,
    )


class InMemoryReader:
    """:class:`whatrack.ports.InboxReader` over the shared in-memory database."""

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    # leads
    def lead(self, lead_id: str) -> Lead | None:
        """A merged lead's id reaches the lead it became (§8.10)."""
        with self._db.lock:
            row = self._db.survivor(lead_id)
            return None if row is None else row.lead

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
        """Newest first (creation time, then id); by phone: that one lead, any notation, no paging;
        by connection: leads with a conversation there, newest lead id first, filtered after paging;
        ``by_activity``: latest message first (of the conversation there, for a connection), then the
        leads never messaged, newest first (as ``DynamoReader``)."""
        with self._db.lock:
            if phone_number is not None:
                return Page(self._leads_by_phone(organization_id, phone_number, source, connection_id), None)
            if by_activity:
                return self._leads_by_activity(organization_id, connection_id, limit, cursor, source)
            if connection_id is not None:
                return self._leads_of_connection(organization_id, connection_id, limit, cursor, source)
            rows = [
                (row.sort_key, row.lead)
                for row in self._db.leads.values()
                if row.lead.organization_id == organization_id and row.lead.merged_into is None
            ]
            return paged(
                rows,
                attribute="gsi1pk",
                partition=f"ORG#{organization_id}#LEADS",
                limit=limit,
                cursor=cursor,
                keep=None if source is None else lambda lead: lead.source is source,
            )

    def _leads_by_phone(
        self, organization_id: str, phone: str, source: LeadSource | None, connection_id: str | None
    ) -> list[Lead]:
        canonical = canonical_phone(phone)
        if canonical is None:
            return []
        lead_id = self._db.phone_guards.get((organization_id, canonical))
        lead = self.lead(lead_id) if lead_id else None
        if lead is None or (source and lead.source is not source):
            return []
        is_member = self.conversation(conversation_id_for(lead.id, connection_id or "")) is not None or (
            ("CONTACT", connection_id, lead.id) in self._db.markers
        )
        if connection_id is not None and not is_member:
            return []
        return [lead]

    def _leads_by_activity(
        self, organization_id: str, connection_id: str | None, limit: int, cursor: str | None, source: LeadSource | None
    ) -> Page[Lead]:
        rows: list[tuple[str, Lead]] = []
        if connection_id is None:
            partition = f"ORG#{organization_id}#LEADS"
            for row in self._db.leads.values():
                lead = row.lead
                if lead.organization_id != organization_id or lead.merged_into is not None:
                    continue
                active = lead.last_message_at is not None
                key = sort_key(lead.last_message_at, lead.id) if lead.last_message_at else row.sort_key
                rows.append((f"{int(active)}#{key}", lead))
        else:
            partition = f"CONN#{connection_id}#CONVS"
            spoken = {
                c.lead_id: c.last_message_at
                for c in self._db.conversations.values()
                if c.connection_id == connection_id and c.id not in self._db.retired_conversations
            }
            members = set(spoken)
            members |= {m[2] for m in self._db.markers if len(m) == 3 and m[0] == "CONTACT" and m[1] == connection_id}
            for lead_id in members:
                survivor = self._db.survivor(lead_id)
                if survivor is None or survivor.lead.organization_id != organization_id:
                    continue
                at = spoken.get(lead_id)
                rows.append((f"1#{sort_key(at, lead_id)}" if at else f"0#{lead_id}", survivor.lead))
        page = paged(
            rows,
            attribute="activity",
            partition=partition,
            limit=limit,
            cursor=cursor,
            keep=None if source is None else lambda lead: lead.source is source,
        )
        unique = {lead.id: lead for lead in page.items}
        return Page(list(unique.values()), page.next_cursor)

    def _leads_of_connection(
        self, organization_id: str, connection_id: str, limit: int, cursor: str | None, source: LeadSource | None
    ) -> Page[Lead]:
        """Its conversations' and synced contacts' leads, newest lead id first; the cursor is the last
        lead id listed; filtered by organization and source after paging (as ``DynamoReader``)."""
        partition = f"CONN#{connection_id}#CONVS"
        below = decode_cursor(cursor, "gsi2pk", partition)
        members = {
            c.lead_id
            for c in self._db.conversations.values()
            if c.connection_id == connection_id and c.id not in self._db.retired_conversations
        }
        members |= {m[2] for m in self._db.markers if len(m) == 3 and m[0] == "CONTACT" and m[1] == connection_id}
        ordered = sorted((i for i in members if below is None or i < below), reverse=True)
        page, more = ordered[:limit], len(ordered) > limit
        found: dict[str, Lead] = {}
        for lead_id in page:
            row = self._db.survivor(lead_id)  # a merged lead's contact marker lists the lead it became
            if row is None or row.lead.organization_id != organization_id:
                continue
            if source is None or row.lead.source is source:
                found.setdefault(row.lead.id, row.lead)
        return Page(list(found.values()), encode_cursor("gsi2pk", partition, page[-1]) if more else None)

    def conversations_of(self, lead_id: str) -> list[Conversation]:
        """By connection id."""
        with self._db.lock:
            ids = sorted(
                (c.connection_id, c.id)
                for c in self._db.conversations.values()
                if c.lead_id == lead_id and c.id not in self._db.retired_conversations
            )
            return [found for _, conversation_id in ids if (found := self._db.conversation(conversation_id))]

    # conversations and messages
    def conversation(self, conversation_id: str) -> Conversation | None:
        with self._db.lock:
            return self._db.conversation(conversation_id)

    def _message_rows(self, conversation_id: str) -> list[tuple[str, Message]]:
        return [
            (row.list_key, row.to_message())
            for row in self._db.messages.values()
            if row.stored and row.list_key is not None and row.conversation_id == conversation_id
        ]

    def messages(self, conversation_id: str, *, limit: int, cursor: str | None, latest: bool = False) -> Page[Message]:
        """Oldest first (timestamp when stored, then wamid); ``latest``: read from the newest end."""
        with self._db.lock:
            page = paged(
                self._message_rows(conversation_id),
                attribute="gsi1pk",
                partition=f"CONV#{conversation_id}#MSGS",
                limit=limit,
                cursor=cursor,
                newest_first=latest,
            )
        return Page(page.items[::-1], page.next_cursor) if latest else page

    def all_messages(self, conversation_id: str) -> list[Message]:
        with self._db.lock:
            return [message for _, message in sorted(self._message_rows(conversation_id), key=lambda r: r[0])]

    # tickets
    def message(self, connection_id: str, message_id: str) -> Message | None:
        with self._db.lock:
            row = self._db.messages.get((connection_id, message_id))
            return row.to_message() if row is not None and row.stored else None

    def ticket(self, ticket_id: str) -> Ticket | None:
        with self._db.lock:
            row = self._db.tickets.get(ticket_id)
            return None if row is None else row.ticket

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
        """Newest first (first message time, then id), or latest message first (``by_activity``);
        ``status`` and the organization filter after paging."""

        def wanted(ticket: Ticket) -> bool:
            in_organization = connection_id is None or ticket.organization_id == organization_id
            return in_organization and (not status or ticket.status.value == status)

        with self._db.lock:
            if connection_id is None:
                attribute, partition = "gsi1pk", f"ORG#{organization_id}#TICKETS"
                rows = [
                    (r.sort_key, r.ticket)
                    for r in self._db.tickets.values()
                    if r.ticket.organization_id == organization_id
                ]
            else:
                attribute, partition = "gsi2pk", f"CONN#{connection_id}#TICKETS"
                rows = [
                    (r.sort_key, r.ticket) for r in self._db.tickets.values() if r.ticket.connection_id == connection_id
                ]
            if by_activity:
                rows = [(sort_key(t.last_message_at, t.id), t) for _, t in rows]
                attribute = "activity"
            return paged(rows, attribute=attribute, partition=partition, limit=limit, cursor=cursor, keep=wanted)

    # logs and history sync
    def logs(self, connection_id: str, *, limit: int, cursor: str | None) -> Page[LogRecord]:
        """Webhook and audit entries of the connection together, newest first (first written)."""
        partition = f"CONN#{connection_id}"
        with self._db.lock:
            rows = [
                (row.by_connection_key, _webhook_record(row))
                for row in self._db.webhook_log.values()
                if row.by_connection == partition
            ]
            rows += [
                (
                    audit.sort_key,
                    LogRecord(
                        id=audit.id,
                        at=parse_iso(audit.at) or datetime.min,
                        kind=LogKind.AUDIT,
                        event=audit.event,
                        status=audit.status,
                        error=audit.error,
                    ),
                )
                for audit in self._db.audit.values()
                if audit.connection_id == connection_id
            ]
            return paged(rows, attribute="gsi1pk", partition=partition, limit=limit, cursor=cursor)

    def chunks(self, connection_id: str) -> list[ChunkRecord]:
        """By (phase, chunk order)."""
        with self._db.lock:
            rows = sorted(self._db.chunks.get(connection_id, {}).items())
            return [
                ChunkRecord(
                    phase=c.phase,
                    chunk_order=c.chunk_order,
                    progress=c.progress,
                    threads=c.threads,
                    messages=c.messages,
                    received_at=c.received_at,
                    status=c.status,
                )
                for _, c in rows
            ]
