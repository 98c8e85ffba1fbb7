"""The inbox in memory: leads, conversations, messages, tickets and the audit log.

Each method applies the condition of its DynamoDB adapter (``whatrack/adapters/dynamo``), all
or nothing under the database lock, and moves the same counters only when its insert happened.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from tests.fakes.database import AuditRow, InMemoryDatabase, LeadRow, MessageRow, TicketRow, sort_key, utc, utc_or_none
from whatrack.domain.annotations import Annotation, Reaction, latest_of_each, latest_reaction
from whatrack.domain.clock import iso
from whatrack.domain.counting import insert_counts, media_move, media_state_of, restored_counts, restored_fields
from whatrack.domain.errors import TransientError
from whatrack.domain.history import HistoryImportResult, ThreadImport, opening_times
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id, stable_id
from whatrack.domain.inbox import (
    FIRST_TICKET_STAGE,
    Conversation,
    Lead,
    LeadSource,
    OpenOutcome,
    ResolvedLead,
    Ticket,
    TicketOpening,
    TicketOrigin,
    TicketSource,
    TicketStatus,
    conversation_id_for,
    recipient_of,
    service_window_end,
)
from whatrack.domain.media import listed_since
from whatrack.domain.messages import (
    MEDIA_PLACEHOLDER_TYPE,
    REVOKED_TYPE,
    STATUS_RANK,
    MessageSource,
    NewMessage,
)

GuardKey = tuple[str, str, str]
"""``("PHONE" | "USER", organization, value)``."""


def _guard_keys(organization_id: str, identity: ContactIdentity) -> list[GuardKey]:
    keys: list[GuardKey] = []
    if identity.phone:
        keys.append(("PHONE", organization_id, identity.phone))
    if identity.user_id:
        keys.append(("USER", organization_id, identity.user_id))
    return keys


class InMemoryLeads:
    """:class:`whatrack.ports.LeadRepository`: one lead per (organization, E.164 phone) and per
    (organization, user id), through guards, as ``DynamoLeadRepository``.

    ``update`` of a lead id that was never created does nothing (DynamoDB would write a partial
    lead item that no guard points to).
    """

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def _guard(self, key: GuardKey) -> str | None:
        kind, organization_id, value = key
        guards = self._db.phone_guards if kind == "PHONE" else self._db.user_guards
        return guards.get((organization_id, value))

    def _set_guard_if_absent(self, key: GuardKey, lead_id: str) -> None:
        kind, organization_id, value = key
        guards = self._db.phone_guards if kind == "PHONE" else self._db.user_guards
        guards.setdefault((organization_id, value), lead_id)

    def _leads(self, organization_id: str, identity: ContactIdentity) -> list[LeadRow]:
        """As ``DynamoLeadRepository._leads``: the leads the guards reach (phone first), merged leads
        replaced by their survivor; two survivors (to merge), or a survivor and a merged lead still
        guarded (a merge to finish), or one lead."""
        ids = list(dict.fromkeys(i for key in _guard_keys(organization_id, identity) if (i := self._guard(key))))
        rows = [row for i in ids if (row := self._db.leads.get(i))]
        survivors = list({s.lead.id: s for row in rows if (s := self._db.survivor(row.lead.id))}.values())
        if len(survivors) != 1:
            return survivors[:2]
        merged = next((row for row in rows if row.lead.merged_into), None)
        return survivors if merged is None else [survivors[0], merged]

    def resolve(
        self,
        organization_id: str,
        identity: ContactIdentity,
        source: LeadSource,
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ResolvedLead:
        """The found lead as it was found (the missing half of its identity is linked after), or a new one."""
        with self._db.lock:
            found = self._leads(organization_id, identity)
            if found:
                first, other = found[0], (found[1] if len(found) > 1 else None)
                resolved = ResolvedLead(
                    first.lead,
                    created=False,
                    tickets_opened=first.tickets_opened,
                    other=None if other is None else other.lead,
                )
                if other is None:
                    self._link_identity(organization_id, first, identity)
                return resolved
            keys = _guard_keys(organization_id, identity)
            if any(self._guard(key) is not None for key in keys):
                raise TransientError("lead identity kept changing while resolving")
            lead = Lead(
                id=new_id(),
                organization_id=organization_id,
                source=source,
                created_at=utc(now),
                has_history=False,
                phone_number=identity.phone,
                wa_id=identity.wa_id,
                user_id=identity.user_id,
                push_name=identity.name,
                is_active=True,
                correlation_id=correlation_id,
            )
            self._db.leads[lead.id] = LeadRow(lead)
            for key in keys:
                self._set_guard_if_absent(key, lead.id)
            return ResolvedLead(lead, created=True)

    def _link_identity(self, organization_id: str, row: LeadRow, identity: ContactIdentity) -> None:
        lead = row.lead
        changes: dict[str, Any] = {}
        if identity.phone and not lead.phone_number:
            changes["phone_number"] = identity.phone
        if identity.wa_id and not lead.wa_id:
            changes["wa_id"] = identity.wa_id
        if identity.user_id and not lead.user_id:
            changes["user_id"] = identity.user_id
        if not changes:
            return
        for key in _guard_keys(organization_id, identity):
            self._set_guard_if_absent(key, lead.id)
        row.lead = replace(lead, **changes)

    def find(self, organization_id: str, identity: ContactIdentity) -> Lead | None:
        with self._db.lock:
            found = self._leads(organization_id, identity)
            return found[0].lead if found else None

    def update(
        self,
        lead_id: str,
        *,
        has_history: bool = False,
        message_at: datetime | None = None,
        push_name: str | None = None,
        overwrite_name: bool = False,
        synced_at: datetime | None = None,
        active: bool | None = None,
        _redirects: int = 0,
    ) -> None:
        with self._db.lock:
            row = self._db.leads.get(lead_id)
            if row is None:
                return
            lead = row.lead
            changes: dict[str, Any] = {}
            if has_history:
                changes["has_history"] = True
            if push_name and overwrite_name and message_at is not None:
                # the name of the latest event that named the person (a contact change, a live message)
                if row.contact_name_at is None or row.contact_name_at <= utc(message_at):
                    changes["push_name"] = push_name
                    row.contact_name_at = utc(message_at)
            elif push_name:
                changes["push_name"] = push_name if overwrite_name or lead.push_name is None else lead.push_name
            if synced_at is not None:
                changes["last_synced_at"] = utc(synced_at)
            if active is True:
                changes |= {"is_active": True, "deleted_at": None}
            elif active is False and synced_at is not None:
                changes |= {"is_active": False, "deleted_at": utc(synced_at)}
            if message_at is not None and (lead.last_message_at is None or lead.last_message_at < message_at):
                changes["last_message_at"] = utc(message_at)
            row.lead = replace(lead, **changes)
            if lead.merged_into is not None and _redirects < 4:
                # written on a lead merged meanwhile (§8.10): the lead it became takes it too
                self.update(
                    lead.merged_into,
                    has_history=has_history,
                    message_at=message_at,
                    push_name=push_name,
                    overwrite_name=overwrite_name,
                    synced_at=synced_at,
                    active=active,
                    _redirects=_redirects + 1,
                )

    # ------------------------------------------------------------------ §8.10 merges
    def retire(self, lead_id: str, into: str) -> ResolvedLead | None:
        """Both conditional updates of the adapter's transaction, or neither."""
        with self._db.lock:
            row, survivor = self._db.leads.get(lead_id), self._db.leads.get(into)
            if row is None or row.lead.merged_into not in (None, into) or row.lead.absorbing is not None:
                return None
            if survivor is None or lead_id == into:
                return None
            if survivor.lead.merged_into is not None or survivor.lead.absorbing not in (None, lead_id):
                return None
            row.lead = replace(row.lead, merged_into=into)
            survivor.lead = replace(survivor.lead, absorbing=lead_id)
            return ResolvedLead(row.lead, created=False, tickets_opened=row.tickets_opened)

    def absorb(self, lead_id: str, merged: ResolvedLead) -> ResolvedLead:
        old = merged.lead
        with self._db.lock:
            row = self._db.leads.get(lead_id)
            if row is None:
                raise TransientError(f"lead {lead_id} vanished while merging")
            lead = row.lead
            changes: dict[str, Any] = {
                name: getattr(old, name)
                for name in ("phone_number", "wa_id", "user_id", "push_name")
                if getattr(lead, name) is None and getattr(old, name)
            }
            if old.is_history_lead:
                changes["has_history"] = True
            if old.last_message_at is not None and (
                lead.last_message_at is None or lead.last_message_at < old.last_message_at
            ):
                changes["last_message_at"] = old.last_message_at
            if old.last_synced_at is not None and (
                lead.last_synced_at is None or lead.last_synced_at < old.last_synced_at
            ):
                changes |= {
                    "last_synced_at": old.last_synced_at,
                    "is_active": old.is_active,
                    "deleted_at": old.deleted_at,
                }
            merged_row = self._db.leads.get(old.id)
            named_at = merged_row.contact_name_at if merged_row is not None else None
            name = merged_row.lead.push_name if merged_row is not None else None  # read with its time
            if (
                named_at is not None and name and (row.contact_name_at is None or row.contact_name_at < named_at)
            ):  # the newer contact name wins, wherever it was kept
                changes["push_name"] = name
                row.contact_name_at = named_at
            row.lead = replace(lead, **changes)
            if merged.tickets_opened and not row.tickets_opened:
                row.tickets_opened = merged.tickets_opened
            return ResolvedLead(row.lead, created=False, tickets_opened=row.tickets_opened)

    def repoint(
        self, organization_id: str, identities: Sequence[ContactIdentity], from_lead: str, to_lead: str
    ) -> None:
        with self._db.lock:
            for key in dict.fromkeys(k for identity in identities for k in _guard_keys(organization_id, identity)):
                kind, organization, value = key
                guards = self._db.phone_guards if kind == "PHONE" else self._db.user_guards
                if guards.get((organization, value)) in (None, from_lead):
                    guards[(organization, value)] = to_lead

    def end_merge(self, lead_id: str, merged: str) -> None:
        with self._db.lock:
            row = self._db.leads.get(lead_id)
            if row is not None and row.lead.absorbing == merged:
                row.lead = replace(row.lead, absorbing=None)


class InMemoryConversations:
    """:class:`whatrack.ports.ConversationRepository`: one conversation per (lead, connection).

    Messages counted on a conversation before it was ensured show in its ``messageCount`` once it
    is (as DynamoDB's partial item is filled in); until then the reader finds no conversation,
    where ``DynamoReader.conversation`` would map the partial item.
    """

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def ensure(
        self, organization_id: str, lead_id: str, connection_id: str, now: datetime, last_message_at: datetime | None
    ) -> str:
        conversation_id = conversation_id_for(lead_id, connection_id)
        with self._db.lock:
            if conversation_id in self._db.retired_conversations:
                return conversation_id  # merged (§8.10): the upsert's condition says no
            existing = self._db.conversations.get(conversation_id)
            later = (
                last_message_at is not None
                and existing is not None
                and existing.last_message_at is not None
                and existing.last_message_at >= last_message_at
            )
            if later:
                return conversation_id  # the upsert's condition says no: nothing is written
            self._db.conversations[conversation_id] = Conversation(
                id=conversation_id,
                organization_id=organization_id,
                lead_id=lead_id,
                connection_id=connection_id,
                created_at=existing.created_at if existing else utc(now),
                last_message_at=utc(last_message_at)
                if last_message_at is not None
                else (existing.last_message_at if existing else None),
            )
        return conversation_id

    def last_message_at(self, conversation_id: str) -> datetime | None:
        with self._db.lock:
            found = self._db.conversations.get(conversation_id)
            return None if found is None else found.last_message_at

    def retire(self, conversation_id: str, into: str) -> Conversation | None:
        with self._db.lock:
            if conversation_id not in self._db.conversations:
                return None
            if self._db.retired_conversations.setdefault(conversation_id, into) != into:
                return None
            return self._db.conversation(conversation_id)


def _increments(message: NewMessage, *, history: bool) -> list[tuple[str, str, int]]:
    """What the insert of ``message`` moves (the domain's rule, as the adapter applies it)."""
    return [(count.target.value, count.counter, count.amount) for count in insert_counts(message, history=history)]


KEPT_ON_STUBS = frozenset({"reactions", "edits"})


class InMemoryMessages:
    """:class:`whatrack.ports.MessageRepository`: unique per (connection, wamid), counters with the insert.

    ``apply_status`` of a wamid that is not stored leaves a stub row (``stored is False``: not
    listed, never a conversation's message, not counted) holding the status in ``delivery_*``, as
    the adapter's update does; ``confirm_echo`` of a wamid not stored leaves one too. The insert
    completes a stub as the adapter's conditional update does: what the message sets (every field
    that is not ``None``) replaces the stub's, the rest (the kept status) stays.
    """

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def _insert(
        self, organization_id: str, connection_id: str, conversation_id: str, message: NewMessage, *, history: bool
    ) -> bool:
        key = (connection_id, message.wamid)
        stub = self._db.messages.get(key)
        if stub is not None and stub.stored and stub.type == REVOKED_TYPE and history:
            # the adapter's tombstone Fill: the content and history status, and the history counters
            self._restore(stub, message)
            stub.history_status = message.history_status or stub.history_status
            for count in restored_counts(message):
                self._db.connection_row(connection_id).counters[count.counter] += count.amount
            return False
        if stub is not None and stub.stored:
            rank = STATUS_RANK.get(message.status or "", -1)
            overtaken = message.type == MEDIA_PLACEHOLDER_TYPE and message.history_status is not None
            if overtaken and stub.history_status is None and (stub.status_rank is None or stub.status_rank < rank):
                # a placeholder whose follow-up overtook it adds its history status (the adapter's Fill)
                status = message.status if message.status is not None else stub.status
                self._db.messages[key] = replace(
                    stub, history_status=message.history_status, status=status, status_rank=rank
                )
            return False
        if conversation_id in self._db.retired_conversations:
            raise TransientError("a counted item refused the write (merged meanwhile): retry")
        row = MessageRow(
            connection_id=connection_id,
            wamid=message.wamid,
            conversation_id=conversation_id,
            organization_id=organization_id,
            list_key=sort_key(message.timestamp, message.wamid),
            direction=message.direction,
            source=message.source,
            type=message.type,
            timestamp=utc(message.timestamp),
            correlation_id=message.correlation_id,
            body=message.body,
            content=message.content,
            status=message.status,
            status_rank=STATUS_RANK.get(message.status or "", -1),
            history_status=message.history_status,
            media=copy.deepcopy(message.media),
            media_since=listed_since(message.media, utc(message.timestamp)) if message.media else None,
            meta_confirmed_at=utc_or_none(message.meta_confirmed_at),
            deleted=message.deleted,
            error=message.error,
            reply_to_id=message.reply_to_id,
            forwarded=True if message.forwarded else None,
            reply=copy.deepcopy(message.reply),
        )
        if stub is not None:  # what the message sets; the stub's statuses, reactions and edits stay
            given = {f.name: getattr(row, f.name) for f in fields(row) if f.name not in KEPT_ON_STUBS}
            row = replace(stub, **{name: value for name, value in given.items() if value is not None})
        self._db.messages[key] = row
        for target, counter, amount in _increments(message, history=history):
            if target == "conversation":
                self._db.message_counts[conversation_id] += amount
            else:
                self._db.connection_row(connection_id).counters[counter] += amount
        return True

    def import_history(
        self, organization_id: str, connection_id: str, threads: Sequence[ThreadImport]
    ) -> HistoryImportResult:
        new_messages = new_threads = 0
        conversations = InMemoryConversations(db=self._db)
        latest = opening_times(threads)
        with self._db.lock:
            for thread in threads:
                merged = self._db.leads.get(thread.lead_id)
                if thread.opens_at is not None and merged is not None and merged.lead.merged_into:
                    raise TransientError("a counted item refused the write (merged meanwhile): retry")
                if thread.opens_at is not None:  # a new customer's conversation, opened with its messages
                    last = latest[thread.lead_id]
                    conversations.ensure(organization_id, thread.lead_id, connection_id, thread.opens_at, last)
                if self._db.add_marker("HTHREAD", connection_id, thread.conversation_id):
                    self._db.connection_row(connection_id).counters["threads_imported"] += 1
                    new_threads += 1
                for message in thread.messages:
                    if self._insert(organization_id, connection_id, thread.conversation_id, message, history=True):
                        new_messages += 1
        return HistoryImportResult(new_messages=new_messages, new_threads=new_threads)

    def insert(
        self,
        organization_id: str,
        connection_id: str,
        conversation_id: str,
        message: NewMessage,
        *,
        history: bool = False,
    ) -> bool:
        with self._db.lock:
            return self._insert(organization_id, connection_id, conversation_id, message, history=history)

    def move(self, connection_id: str, from_conversation: str, to_conversation: str) -> int:
        with self._db.lock:
            rows = [
                row
                for row in self._db.messages.values()
                if row.stored and row.connection_id == connection_id and row.conversation_id == from_conversation
            ]
            for row in rows:
                row.conversation_id = to_conversation
            self._db.message_counts[from_conversation] -= len(rows)
            self._db.message_counts[to_conversation] += len(rows)
            return len(rows)

    def fill_media(
        self, connection_id: str, wamid: str, media_type: str, media: dict[str, Any], body: str | None
    ) -> bool:
        with self._db.lock:
            row = self._db.messages.get((connection_id, wamid))
            if row is None or row.type != MEDIA_PLACEHOLDER_TYPE:
                return False
            before = media_state_of(row.media)  # None: a placeholder stored before states were kept
            after = media_state_of(media)
            row.type = media_type
            row.media = copy.deepcopy(media)
            assert row.timestamp is not None
            row.media_since = listed_since(media, row.timestamp)
            if body:
                row.body = body
            counters = self._db.connection_row(connection_id).counters
            counters["media_pending"] -= 1
            counters["media_received"] += 1
            for count in media_move(before, after) if after is not None else []:
                counters[count.counter] += count.amount
            return True

    def _row(self, connection_id: str, wamid: str) -> MessageRow:
        """The stored row, or a partial one (what an unconditional update of a missing item leaves)."""
        key = (connection_id, wamid)
        row = self._db.messages.get(key)
        if row is None:
            row = self._db.messages[key] = MessageRow(connection_id=connection_id, wamid=wamid, stored=False)
        return row

    def confirm_echo(self, connection_id: str, wamid: str, confirmed_at: datetime) -> None:
        with self._db.lock:
            row = self._row(connection_id, wamid)
            row.source = MessageSource.APP_ECHO
            row.meta_confirmed_at = row.meta_confirmed_at or utc(confirmed_at)
            self.apply_status(connection_id, wamid, "sent", None)

    def restore_revoked(self, connection_id: str, message: NewMessage) -> bool:
        """Only a ``revoked`` tombstone takes the original's content and status (it stays deleted; its
        place in the conversation's order is not touched, as in the adapter)."""
        with self._db.lock:
            row = self._db.messages.get((connection_id, message.wamid))
            if row is None or row.type != REVOKED_TYPE:
                return False
            self._restore(row, message)
            return True

    @staticmethod
    def _restore(row: MessageRow, message: NewMessage) -> None:
        fields = {**restored_fields(message), "timestamp": utc(message.timestamp)}
        for name, value in fields.items():
            setattr(row, name, copy.deepcopy(value))

    def mark_deleted(self, connection_id: str, wamid: str) -> bool:
        with self._db.lock:
            row = self._db.messages.get((connection_id, wamid))
            if row is None or not row.stored:
                return False
            row.deleted = True
            return True

    def annotate(self, connection_id: str, annotations: Sequence[Annotation]) -> int:
        """As the adapter's conditional updates: a side's reaction only by a later one, an edit once."""
        changed = 0
        with self._db.lock:
            for annotation in latest_of_each(annotations):
                row = self._row(connection_id, annotation.target)
                if isinstance(annotation, Reaction):
                    if not latest_reaction(row.reactions.get(annotation.direction), annotation):
                        continue
                    row.reactions[annotation.direction] = annotation.record()
                elif annotation.id in row.edits:
                    continue
                else:
                    row.edits[annotation.id] = annotation.record()
                changed += 1
        return changed

    def apply_status(self, connection_id: str, wamid: str, status: str, error: str | None) -> bool:
        rank = STATUS_RANK.get(status)
        if rank is None:
            return False
        with self._db.lock:
            found = self._db.messages.get((connection_id, wamid))
            if found is not None and any(
                current is not None and current >= rank for current in (found.status_rank, found.delivery_rank)
            ):
                return False
            row = self._row(connection_id, wamid)
            row.delivery_status, row.delivery_rank = status, rank
            if error:
                row.delivery_error = error
            return True


class InMemoryTickets:
    """:class:`whatrack.ports.TicketRepository`: one open ticket per conversation, one per opening wamid.

    ``touch`` of a ticket id that does not exist does nothing (DynamoDB would write a partial
    ticket item holding ``lastMessageAt`` only), and ``open`` counts ``ticketsOpened`` only on a
    lead that exists (DynamoDB's ``ADD`` would create a partial lead item).
    """

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def open(
        self,
        *,
        lead: ResolvedLead,
        connection_id: str,
        conversation_id: str,
        wamid: str,
        origin: TicketOrigin,
        window: datetime | None,
        message_at: datetime,
        source: TicketSource,
        service_window: datetime | None,
        correlation_id: str | None = None,
    ) -> TicketOpening:
        with self._db.lock:
            db = self._db
            opened_by = ("TICKETBY", connection_id, wamid)
            # as the adapter reads its transaction's refusals: a merged lead first, then the marker
            lead_row = db.leads.get(lead.lead.id)
            if lead_row is not None and lead_row.lead.merged_into is not None:
                raise TransientError(f"lead {lead.lead.id} was merged into another: resolve it again")
            if opened_by in db.markers:
                return TicketOpening(OpenOutcome.MESSAGE_OPENED_ONE)
            if conversation_id in db.open_tickets:
                return TicketOpening(OpenOutcome.CONVERSATION_HAS_ONE)
            ticket = Ticket(
                id=new_id(),
                organization_id=lead.lead.organization_id,
                connection_id=connection_id,
                lead_id=lead.lead.id,
                conversation_id=conversation_id,
                source=source.value,
                originated_from=origin,
                stage=FIRST_TICKET_STAGE,
                status=TicketStatus.OPEN,
                message_window_expires_at=utc_or_none(window),
                created_at=utc(message_at),
                last_message_at=utc(message_at),
                correlation_id=correlation_id,
                customer_service_window_ends_at=utc_or_none(service_window),
                recipient=recipient_of(lead.lead),
            )
            db.tickets[ticket.id] = TicketRow(ticket, opened_by=wamid)
            db.open_tickets[conversation_id] = ticket.id
            db.markers.add(opened_by)
            lead_row = db.leads.get(lead.lead.id)
            if lead_row is not None:
                lead_row.tickets_opened += 1
            if origin is TicketOrigin.HISTORY_LEAD:
                db.connection_row(connection_id).counters["history_lead_tickets"] += 1
            return TicketOpening(OpenOutcome.OPENED, ticket.id)

    def open_ticket_id(self, conversation_id: str) -> str | None:
        with self._db.lock:
            return self._db.open_tickets.get(conversation_id)

    def moved(self, ticket_id: str, message_at: datetime) -> None:
        with self._db.lock:
            row = self._db.tickets.get(ticket_id)
            if row is not None and row.ticket.last_message_at < message_at:
                row.ticket = replace(row.ticket, last_message_at=utc(message_at))

    def touch(self, ticket_id: str, message_at: datetime, window: datetime) -> None:
        """A non-null window of an open ticket moves forward; ``lastMessageAt`` moves forward (any status)."""
        with self._db.lock:
            row = self._db.tickets.get(ticket_id)
            if row is None:
                return
            ticket = row.ticket
            current = ticket.message_window_expires_at
            if current is not None and current < window and ticket.status is TicketStatus.OPEN:
                ticket = replace(ticket, message_window_expires_at=utc(window))
            if ticket.last_message_at < message_at:
                ticket = replace(ticket, last_message_at=utc(message_at))
            service_window = utc(service_window_end(message_at))
            current_service = ticket.customer_service_window_ends_at
            if current_service is None or current_service < service_window:
                ticket = replace(ticket, customer_service_window_ends_at=service_window)
            row.ticket = ticket

    def close(self, ticket_id: str, conversation_id: str, at: datetime) -> None:
        """Both or neither: the ticket is open and it is the one holding this conversation."""
        with self._db.lock:
            row = self._db.tickets.get(ticket_id)
            if row is None or row.ticket.status is not TicketStatus.OPEN:
                return
            if self._db.open_tickets.get(conversation_id) != ticket_id:
                return
            row.ticket = replace(row.ticket, status=TicketStatus.CLOSED, closed_at=utc(at))
            del self._db.open_tickets[conversation_id]

    def reopen(self, ticket_id: str, conversation_id: str) -> bool:
        """Both or neither: the ticket is closed and its conversation has no open ticket."""
        with self._db.lock:
            row = self._db.tickets.get(ticket_id)
            if row is None or row.ticket.status is not TicketStatus.CLOSED:
                return False
            if row.ticket.conversation_id != conversation_id or conversation_id in self._db.open_tickets:
                return False
            row.ticket = replace(row.ticket, status=TicketStatus.OPEN, closed_at=None)
            self._db.open_tickets[conversation_id] = ticket_id
            return True

    def reassign(
        self, connection_id: str, from_conversation: str, to_conversation: str, from_lead: str, to_lead: str
    ) -> None:
        with self._db.lock:
            db = self._db
            open_id = db.open_tickets.pop(from_conversation, None)
            if open_id is not None:
                if to_conversation not in db.open_tickets:
                    db.open_tickets[to_conversation] = open_id
                else:
                    row = db.tickets[open_id]
                    row.ticket = replace(row.ticket, status=TicketStatus.CLOSED)
            for row in db.tickets.values():
                if row.ticket.connection_id == connection_id and row.ticket.lead_id == from_lead:
                    row.ticket = replace(row.ticket, lead_id=to_lead, conversation_id=to_conversation)


class InMemoryAuditLog:
    """:class:`whatrack.ports.AuditLog`: the first entry of a (connection, key) stays; replays add none."""

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def record(
        self,
        connection_id: str,
        event: str,
        at: datetime,
        *,
        key: str,
        status: str | None = None,
        error: str | None = None,
    ) -> None:
        audit_id = stable_id("audit", connection_id, key)
        with self._db.lock:
            if audit_id not in self._db.audit:
                self._db.audit[audit_id] = AuditRow(audit_id, connection_id, iso(at) or "", event, status, error)
