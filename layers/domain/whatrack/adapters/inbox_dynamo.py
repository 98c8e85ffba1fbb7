"""Inbox repository (InboxTable + counters on AccountsTable + audit in LogTable).

Uniqueness is enforced by conditional writes, never by reads:

* message per (connection, wamid): ``MSG#<connection>#<wamid>`` put with ``attribute_not_exists``;
* lead per (organization, E.164 phone) and per (organization, user id): guard items
  ``ORG#<org>#PHONE#<e164>`` / ``ORG#<org>#USER#<bsuid>`` written in the lead's creation transaction;
* conversation per (lead, connection): a deterministic id;
* at most one open ticket per conversation: guard ``OPEN#<conversation>`` in the ticket's transaction.

Counters (``messagesImported``, ``threadsImported``, ``contactsImported``, ``mediaPending``, a
conversation's ``messageCount``...) move in the same transaction as the insert they count, so a
redelivery, a crash between two writes or a parallel consumer can never make them drift.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo import (
    CONDITIONAL_FAILED,
    ConnectionItem,
    _LogTableItem,
    bind_models,
    connection_key,
    get_or_none,
    storage,
    transaction_connection,
)
from whatrack.config import TablesMixin
from whatrack.errors import TransientError
from whatrack.identity import ContactIdentity
from whatrack.ids import new_id, stable_id
from whatrack.inbox import (
    REVOKED_TYPE,
    STATUS_RANK,
    Direction,
    HistoryImportResult,
    Lead,
    LeadSource,
    NewMessage,
    ResolvedLead,
    ThreadImport,
    TicketOrigin,
)
from whatrack.timeutil import iso

MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 8


class _InboxTableItem(Model):
    class Meta:
        table_name = "unbound-inbox"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class LeadItem(_InboxTableItem):
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    id = UnicodeAttribute()
    organization_id = UnicodeAttribute()
    phone_number = UnicodeAttribute(null=True)
    wa_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    push_name = UnicodeAttribute(null=True)
    source = UnicodeAttribute()
    is_active = BooleanAttribute(default=True)
    has_history = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    last_message_at = UTCDateTimeAttribute(null=True)
    last_synced_at = UTCDateTimeAttribute(null=True)
    deleted_at = UTCDateTimeAttribute(null=True)
    tickets_opened = NumberAttribute(default=0)


class GuardItem(_InboxTableItem):
    lead_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)


class MarkerItem(_InboxTableItem):
    """Existence-only item: "this thread / contact / message was counted once"."""


class ConversationItem(_InboxTableItem):
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


class MessageItem(_InboxTableItem):
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
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


class TicketItem(_InboxTableItem):
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    id = UnicodeAttribute()
    organization_id = UnicodeAttribute()
    connection_id = UnicodeAttribute()
    lead_id = UnicodeAttribute()
    conversation_id = UnicodeAttribute()
    source = UnicodeAttribute()
    originated_from = UnicodeAttribute()
    stage = UnicodeAttribute()
    status = UnicodeAttribute()
    message_window_expires_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    last_message_at = UTCDateTimeAttribute()
    opened_by = UnicodeAttribute()


class AuditLogItem(_LogTableItem):
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    kind = UnicodeAttribute()
    id = UnicodeAttribute()
    at = UnicodeAttribute()
    event = UnicodeAttribute()
    status = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    connection_id = UnicodeAttribute()


INBOX_MODELS: tuple[type[Model], ...] = (
    _InboxTableItem,
    LeadItem,
    GuardItem,
    MarkerItem,
    ConversationItem,
    MessageItem,
    TicketItem,
)


def bind_inbox(settings: TablesMixin) -> None:
    """Like :func:`whatrack.adapters.dynamo.bind`, for the inbox models (call after it)."""
    bind_models(INBOX_MODELS, settings.inbox_table_name)
    bind_models((AuditLogItem,), settings.log_table_name)


# --------------------------------------------------------------------------- keys
def lead_key(lead_id: str) -> tuple[str, str]:
    return f"LEAD#{lead_id}", "LEAD"


def phone_guard(organization_id: str, phone: str) -> tuple[str, str]:
    return f"ORG#{organization_id}#PHONE#{phone}", "GUARD"


def user_guard(organization_id: str, user_id: str) -> tuple[str, str]:
    return f"ORG#{organization_id}#USER#{user_id}", "GUARD"


def conversation_id_for(lead_id: str, connection_id: str) -> str:
    return stable_id("conversation", lead_id, connection_id)


def conversation_key(conversation_id: str) -> tuple[str, str]:
    return f"CONV#{conversation_id}", "CONV"


def message_key(connection_id: str, wamid: str) -> tuple[str, str]:
    return f"MSG#{connection_id}#{wamid}", "MSG"


def open_ticket_guard(conversation_id: str) -> tuple[str, str]:
    return f"OPEN#{conversation_id}", "GUARD"


def ticket_key(ticket_id: str) -> tuple[str, str]:
    return f"TICKET#{ticket_id}", "TICKET"


def marker_key(*parts: str) -> tuple[str, str]:
    return "MARK#" + "#".join(parts), "MARK"


# --------------------------------------------------------------------------- counted inserts
@dataclass
class CountedInsert:
    """Put ``item`` if its key is absent; apply ``increments`` only if it was inserted."""

    item: Model
    increments: list[tuple[type[Model], tuple[str, str], str, int]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.item.pk, self.item.sk)  # type: ignore[attr-defined]


def _reason_codes(exc: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (exc.cancellation_reasons or [])]


def write_counted(inserts: Sequence[CountedInsert]) -> set[tuple[str, str]]:
    """Insert what is new, with its counters, in transactions of up to 100 items.

    Returns the keys actually inserted. Items that already exist are dropped from the
    transaction (and so are their increments); conflicts with concurrent transactions back off
    and retry. No read precedes the writes.
    """
    inserted: set[tuple[str, str]] = set()
    pending = _dedupe(inserts)
    while pending:
        batch, pending = _take_batch(pending)
        inserted |= _write_batch(batch)
    return inserted


def _dedupe(inserts: Iterable[CountedInsert]) -> list[CountedInsert]:
    seen: set[tuple[str, str]] = set()
    out = []
    for insert in inserts:
        if insert.key not in seen:
            seen.add(insert.key)
            out.append(insert)
    return out


def _targets(batch: Sequence[CountedInsert]) -> set[tuple[str, tuple[str, str]]]:
    return {(model.__name__, key) for i in batch for model, key, _, _ in i.increments}


def _take_batch(pending: list[CountedInsert]) -> tuple[list[CountedInsert], list[CountedInsert]]:
    batch: list[CountedInsert] = []
    for index, insert in enumerate(pending):
        if len(batch) + 1 + len(_targets([*batch, insert])) > MAX_TRANSACTION_ITEMS:
            return batch, pending[index:]
        batch.append(insert)
    return batch, []


def _write_batch(batch: list[CountedInsert]) -> set[tuple[str, str]]:
    for attempt in range(TRANSACTION_ATTEMPTS):
        if not batch:
            return set()
        totals: dict[tuple[type[Model], tuple[str, str]], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for insert in batch:
            for model, key, attribute, amount in insert.increments:
                totals[(model, key)][attribute] += amount
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                for insert in batch:
                    tx.save(insert.item, condition=type(insert.item).pk.does_not_exist())  # type: ignore[attr-defined]
                for (model, key), amounts in totals.items():
                    target = model(key[0], key[1])
                    tx.update(target, actions=[getattr(model, a).add(n) for a, n in amounts.items() if n])
        except TransactWriteError as exc:
            codes = _reason_codes(exc)
            existing = {i for i, code in enumerate(codes[: len(batch)]) if code == "ConditionalCheckFailed"}
            if existing:
                batch = [insert for i, insert in enumerate(batch) if i not in existing]
                continue
            if attempt + 1 == TRANSACTION_ATTEMPTS:
                raise TransientError(f"transaction failed ({codes or exc.cause_response_code})") from exc
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter
            continue
        return {insert.key for insert in batch}
    raise TransientError("transaction kept conflicting")


# --------------------------------------------------------------------------- leads
def _to_lead(item: LeadItem) -> Lead:
    return Lead(
        id=item.id,
        organization_id=item.organization_id,
        source=LeadSource(item.source),
        has_history=bool(item.has_history),
        created_at=item.created_at,
        phone_number=item.phone_number,
        user_id=item.user_id,
    )


class DynamoInbox:
    """The inbox's storage port, on DynamoDB."""

    # ------------------------------------------------------------------ leads
    def resolve_lead(
        self, organization_id: str, identity: ContactIdentity, source: LeadSource, now: datetime
    ) -> ResolvedLead:
        """The one lead of this person in this organization, created if new (guards make it unique)."""
        for _ in range(4):
            found = self._find_lead(organization_id, identity)
            if found is not None:
                self._link_identity(organization_id, found, identity)
                return ResolvedLead(_to_lead(found), created=False, tickets_opened=int(found.tickets_opened or 0))
            lead_id = new_id()
            item = LeadItem(
                *lead_key(lead_id),
                gsi1pk=f"ORG#{organization_id}#LEADS",
                gsi1sk=f"{iso(now)}#{lead_id}",
                id=lead_id,
                organization_id=organization_id,
                phone_number=identity.phone,
                wa_id=identity.wa_id,
                user_id=identity.user_id,
                push_name=identity.name,
                source=source.value,
                is_active=True,
                has_history=False,
                created_at=now,
                tickets_opened=0,
            )
            try:
                with TransactWrite(connection=transaction_connection()) as tx:
                    tx.save(item, condition=LeadItem.pk.does_not_exist())
                    for key in self._guard_keys(organization_id, identity):
                        tx.save(GuardItem(*key, lead_id=lead_id), condition=GuardItem.pk.does_not_exist())
            except TransactWriteError as exc:
                if "ConditionalCheckFailed" in _reason_codes(exc):
                    continue  # someone else created this person first: read their lead
                raise TransientError(f"lead create failed ({_reason_codes(exc)})") from exc
            return ResolvedLead(_to_lead(item), created=True)
        raise TransientError("lead identity kept changing while resolving")

    def find_lead(self, organization_id: str, identity: ContactIdentity) -> Lead | None:
        found = self._find_lead(organization_id, identity)
        return None if found is None else _to_lead(found)

    @staticmethod
    def _guard_keys(organization_id: str, identity: ContactIdentity) -> list[tuple[str, str]]:
        keys = []
        if identity.phone:
            keys.append(phone_guard(organization_id, identity.phone))
        if identity.user_id:
            keys.append(user_guard(organization_id, identity.user_id))
        return keys

    def _find_lead(self, organization_id: str, identity: ContactIdentity) -> LeadItem | None:
        with storage("lead lookup"):
            for key in self._guard_keys(organization_id, identity):
                guard = get_or_none(GuardItem, key, consistent_read=True)
                if guard is not None and guard.lead_id:
                    lead = get_or_none(LeadItem, lead_key(guard.lead_id), consistent_read=True)
                    if lead is not None:
                        return lead
        return None

    def _link_identity(self, organization_id: str, lead: LeadItem, identity: ContactIdentity) -> None:
        """A phone and a user id met on one contact: record the missing half on the same lead."""
        actions: list[Any] = []
        if identity.phone and not lead.phone_number:
            actions.append(LeadItem.phone_number.set(identity.phone))
        if identity.wa_id and not lead.wa_id:
            actions.append(LeadItem.wa_id.set(identity.wa_id))
        if identity.user_id and not lead.user_id:
            actions.append(LeadItem.user_id.set(identity.user_id))
        if not actions:
            return
        for key in self._guard_keys(organization_id, identity):
            try:
                GuardItem(*key, lead_id=lead.id).save(condition=GuardItem.pk.does_not_exist())
            except PynamoDBException as exc:
                if exc.cause_response_code != CONDITIONAL_FAILED:
                    raise TransientError(f"identity link failed ({exc.cause_response_code})") from exc
        with storage("lead update"):
            LeadItem(*lead_key(lead.id)).update(actions=actions)

    def update_lead(
        self,
        lead_id: str,
        *,
        has_history: bool = False,
        message_at: datetime | None = None,
        push_name: str | None = None,
        overwrite_name: bool = False,
        synced_at: datetime | None = None,
        active: bool | None = None,
    ) -> None:
        actions: list[Any] = []
        if has_history:
            actions.append(LeadItem.has_history.set(True))
        if push_name:
            actions.append(LeadItem.push_name.set(push_name if overwrite_name else LeadItem.push_name | push_name))
        if synced_at is not None:
            actions.append(LeadItem.last_synced_at.set(synced_at))
        if active is True:
            actions += [LeadItem.is_active.set(True), LeadItem.deleted_at.remove()]
        elif active is False and synced_at is not None:
            actions += [LeadItem.is_active.set(False), LeadItem.deleted_at.set(synced_at)]
        item = LeadItem(*lead_key(lead_id))
        with storage("lead update"):
            if actions:
                item.update(actions=actions)
        if message_at is not None:
            _set_if_later(item, LeadItem.last_message_at, message_at)

    # ------------------------------------------------------------------ conversations
    def ensure_conversation(
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
            ConversationItem.gsi2pk.set(f"CONN#{connection_id}#CONVS"),
            ConversationItem.gsi2sk.set(lead_id),
            ConversationItem.created_at.set(ConversationItem.created_at | now),
            ConversationItem.message_count.set(ConversationItem.message_count | 0),
        ]
        if last_message_at is None:
            with storage("conversation upsert"):
                item.update(actions=actions)
            return conversation_id
        actions.append(ConversationItem.last_message_at.set(last_message_at))
        _conditional_update_inbox(
            item,
            actions,
            ConversationItem.pk.does_not_exist()
            | ConversationItem.last_message_at.does_not_exist()
            | (ConversationItem.last_message_at < last_message_at),
        )
        return conversation_id

    # ------------------------------------------------------------------ messages
    def _message_item(
        self, organization_id: str, connection_id: str, conversation_id: str, message: NewMessage
    ) -> MessageItem:
        return MessageItem(
            *message_key(connection_id, message.wamid),
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
        )

    def _counted_message(
        self, organization_id: str, connection_id: str, conversation_id: str, message: NewMessage, *, history: bool
    ) -> CountedInsert:
        increments: list[tuple[type[Model], tuple[str, str], str, int]] = [
            (ConversationItem, conversation_key(conversation_id), "message_count", 1)
        ]
        if history:
            key = connection_key(connection_id)
            direction = "history_inbound" if message.direction is Direction.INBOUND else "history_outbound"
            increments += [(ConnectionItem, key, "messages_imported", 1), (ConnectionItem, key, direction, 1)]
            if message.type == "media_placeholder":
                increments += [
                    (ConnectionItem, key, "media_pending", 1),
                    (ConnectionItem, key, "media_placeholders", 1),
                ]
            elif message.media is not None and message.media.get("id"):
                increments.append((ConnectionItem, key, "media_received", 1))
        item = self._message_item(organization_id, connection_id, conversation_id, message)
        return CountedInsert(item, increments)

    def import_history(
        self, organization_id: str, connection_id: str, threads: Sequence[ThreadImport]
    ) -> HistoryImportResult:
        """Insert a chunk's messages and thread markers with their counters (no read per message)."""
        inserts: list[CountedInsert] = []
        for thread in threads:
            inserts.append(
                CountedInsert(
                    MarkerItem(*marker_key("HTHREAD", connection_id, thread.conversation_id)),
                    [(ConnectionItem, connection_key(connection_id), "threads_imported", 1)],
                )
            )
            inserts += [
                self._counted_message(organization_id, connection_id, thread.conversation_id, m, history=True)
                for m in thread.messages
            ]
        inserted = write_counted(inserts)
        return HistoryImportResult(
            new_messages=sum(1 for i in inserts if isinstance(i.item, MessageItem) and i.key in inserted),
            new_threads=sum(1 for i in inserts if isinstance(i.item, MarkerItem) and i.key in inserted),
        )

    def insert_message(
        self,
        organization_id: str,
        connection_id: str,
        conversation_id: str,
        message: NewMessage,
        *,
        history: bool = False,
    ) -> bool:
        """Insert one message if its wamid is new for the connection; True when inserted."""
        insert = self._counted_message(organization_id, connection_id, conversation_id, message, history=history)
        return bool(write_counted([insert]))

    def count_contact(self, connection_id: str, lead_id: str) -> bool:
        """``contactsImported`` +1 the first time this connection's contact sync adds this lead."""
        marker = CountedInsert(
            MarkerItem(*marker_key("CONTACT", connection_id, lead_id)),
            [(ConnectionItem, connection_key(connection_id), "contacts_imported", 1)],
        )
        return bool(write_counted([marker]))

    def get_message(self, connection_id: str, wamid: str) -> MessageItem | None:
        with storage("message get"):
            return get_or_none(MessageItem, message_key(connection_id, wamid), consistent_read=True)

    def fill_media(
        self, connection_id: str, wamid: str, media_type: str, media: dict[str, Any], body: str | None
    ) -> bool:
        """§8.8: fill a placeholder's media and type, exactly once (and count it as no longer pending)."""
        item = MessageItem(*message_key(connection_id, wamid))
        actions: list[Any] = [MessageItem.type.set(media_type), MessageItem.media.set(media)]
        if body:
            actions.append(MessageItem.body.set(body))
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.update(item, actions=actions, condition=MessageItem.type == "media_placeholder")
                tx.update(
                    ConnectionItem(*connection_key(connection_id)),
                    actions=[ConnectionItem.media_pending.add(-1), ConnectionItem.media_received.add(1)],
                )
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _reason_codes(exc):
                return False
            raise TransientError(f"media fill failed ({_reason_codes(exc)})") from exc
        return True

    def confirm_echo(self, connection_id: str, wamid: str, confirmed_at: datetime) -> None:
        """§8.7 known wamid: ``source: app_echo``, ``metaConfirmedAt`` set, status at least ``sent``."""
        item = MessageItem(*message_key(connection_id, wamid))
        with storage("echo confirm"):
            item.update(
                actions=[
                    MessageItem.source.set("app_echo"),
                    MessageItem.meta_confirmed_at.set(MessageItem.meta_confirmed_at | confirmed_at),
                ]
            )
        self.apply_status(connection_id, wamid, "sent", None, must_exist=True)

    def restore_revoked(self, connection_id: str, message: NewMessage) -> bool:
        """The original of an earlier revoke arrived: keep it deleted, but with its content."""
        item = MessageItem(*message_key(connection_id, message.wamid))
        actions: list[Any] = [MessageItem.type.set(message.type), MessageItem.timestamp.set(message.timestamp)]
        if message.body is not None:
            actions.append(MessageItem.body.set(message.body))
        if message.content is not None:
            actions.append(MessageItem.content.set(message.content))
        if message.media is not None:
            actions.append(MessageItem.media.set(message.media))
        if message.status is not None:
            actions.append(MessageItem.status.set(message.status))
        return _conditional_update_inbox(item, actions, MessageItem.type == REVOKED_TYPE)

    def mark_deleted(self, connection_id: str, wamid: str) -> bool:
        item = MessageItem(*message_key(connection_id, wamid))
        try:
            item.update(actions=[MessageItem.deleted.set(True)], condition=MessageItem.pk.exists())
        except UpdateError as exc:
            if exc.cause_response_code == CONDITIONAL_FAILED:
                return False
            raise TransientError(f"revoke failed ({exc.cause_response_code})") from exc
        return True

    def apply_status(
        self, connection_id: str, wamid: str, status: str, error: str | None, *, must_exist: bool = True
    ) -> bool:
        """§8.9: statuses only move forward; ``failed`` records the error. False when not applied."""
        rank = STATUS_RANK.get(status)
        if rank is None:
            return False
        item = MessageItem(*message_key(connection_id, wamid))
        actions: list[Any] = [MessageItem.status.set(status), MessageItem.status_rank.set(rank)]
        if error:
            actions.append(MessageItem.error.set(error))
        condition = MessageItem.pk.exists() & (
            MessageItem.status_rank.does_not_exist() | (MessageItem.status_rank < rank)
        )
        try:
            item.update(actions=actions, condition=condition if must_exist else None)
        except UpdateError as exc:
            if exc.cause_response_code == CONDITIONAL_FAILED:
                return False
            raise TransientError(f"status update failed ({exc.cause_response_code})") from exc
        return True

    # ------------------------------------------------------------------ tickets
    def open_ticket(
        self,
        *,
        lead: ResolvedLead,
        connection_id: str,
        conversation_id: str,
        wamid: str,
        origin: TicketOrigin,
        window: datetime | None,
        message_at: datetime,
    ) -> str | None:
        """Create the conversation's one open ticket; ``None`` when one is already open (or this
        message already opened one)."""
        ticket_id = new_id()
        org = lead.lead.organization_id
        item = TicketItem(
            *ticket_key(ticket_id),
            gsi1pk=f"ORG#{org}#TICKETS",
            gsi1sk=f"{iso(message_at)}#{ticket_id}",
            gsi2pk=f"CONN#{connection_id}#TICKETS",
            gsi2sk=f"{iso(message_at)}#{ticket_id}",
            id=ticket_id,
            organization_id=org,
            connection_id=connection_id,
            lead_id=lead.lead.id,
            conversation_id=conversation_id,
            source="incoming_message",
            originated_from=origin.value,
            stage="new",
            status="open",
            message_window_expires_at=window,
            created_at=message_at,
            last_message_at=message_at,
            opened_by=wamid,
        )
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(
                    GuardItem(*open_ticket_guard(conversation_id), ticket_id=ticket_id),
                    condition=GuardItem.pk.does_not_exist(),
                )
                tx.save(
                    MarkerItem(*marker_key("TICKETBY", connection_id, wamid)), condition=MarkerItem.pk.does_not_exist()
                )
                tx.save(item, condition=TicketItem.pk.does_not_exist())
                tx.update(LeadItem(*lead_key(lead.lead.id)), actions=[LeadItem.tickets_opened.add(1)])
                if origin is TicketOrigin.HISTORY_LEAD:
                    tx.update(
                        ConnectionItem(*connection_key(connection_id)),
                        actions=[ConnectionItem.history_lead_tickets.add(1)],
                    )
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _reason_codes(exc):
                return None
            raise TransientError(f"ticket create failed ({_reason_codes(exc)})") from exc
        return ticket_id

    def open_ticket_id(self, conversation_id: str) -> str | None:
        with storage("open ticket lookup"):
            guard = get_or_none(GuardItem, open_ticket_guard(conversation_id), consistent_read=True)
        return guard.ticket_id if guard else None

    def close_ticket(self, ticket_id: str, conversation_id: str) -> None:
        """Close an open ticket and free its conversation for the next one (one transaction)."""
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.update(
                    TicketItem(*ticket_key(ticket_id)),
                    actions=[TicketItem.status.set("closed")],
                    condition=TicketItem.status == "open",
                )
                tx.delete(GuardItem(*open_ticket_guard(conversation_id)), condition=GuardItem.ticket_id == ticket_id)
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" not in _reason_codes(exc):
                raise TransientError(f"ticket close failed ({_reason_codes(exc)})") from exc

    def touch_ticket(self, ticket_id: str, message_at: datetime, window: datetime) -> None:
        """A live message on an open ticket: a non-null window moves forward to message time + 24 h."""
        item = TicketItem(*ticket_key(ticket_id))
        try:
            item.update(
                actions=[TicketItem.message_window_expires_at.set(window)],
                condition=TicketItem.message_window_expires_at.exists()
                & (TicketItem.message_window_expires_at < window)
                & (TicketItem.status == "open"),
            )
        except UpdateError as exc:
            if exc.cause_response_code != CONDITIONAL_FAILED:
                raise TransientError(f"ticket update failed ({exc.cause_response_code})") from exc
        _set_if_later(item, TicketItem.last_message_at, message_at)

    # ------------------------------------------------------------------ audit
    def audit(
        self,
        connection_id: str,
        event: str,
        at: datetime,
        *,
        key: str,
        status: str | None = None,
        error: str | None = None,
    ) -> None:
        """One audit entry per (connection, key): replays do not repeat it."""
        audit_id = stable_id("audit", connection_id, key)
        item = AuditLogItem(
            f"AUDIT#{audit_id}",
            "AUDIT",
            gsi1pk=f"CONN#{connection_id}",
            gsi1sk=f"{iso(at)}#{audit_id}",
            kind="audit",
            id=audit_id,
            at=iso(at) or "",
            event=event,
            status=status,
            error=error,
            connection_id=connection_id,
        )
        try:
            item.save(condition=AuditLogItem.pk.does_not_exist())
        except PynamoDBException as exc:
            if exc.cause_response_code != CONDITIONAL_FAILED:
                raise TransientError(f"audit write failed ({exc.cause_response_code})") from exc


def _conditional_update_inbox(item: Model, actions: list[Any], condition: Any) -> bool:
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == CONDITIONAL_FAILED:
            return False
        raise TransientError(f"update failed ({exc.cause_response_code})") from exc
    return True


def _set_if_later(item: Model, attribute: Any, value: datetime) -> None:
    """``SET attribute = value`` only if it moves the time forward (a conditional max)."""
    try:
        item.update(actions=[attribute.set(value)], condition=attribute.does_not_exist() | (attribute < value))
    except UpdateError as exc:
        if exc.cause_response_code != CONDITIONAL_FAILED:
            raise TransientError(f"update failed ({exc.cause_response_code})") from exc
