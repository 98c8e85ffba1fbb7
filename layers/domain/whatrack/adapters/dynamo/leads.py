"""Leads and their identity guards (InboxTable): one lead per (organization, phone) and (organization, user id).

Uniqueness is enforced by conditional writes, never by reads: the guard items
``ORG#<org>#PHONE#<e164>`` / ``ORG#<org>#USER#<bsuid>`` are written in the lead's creation transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo.tables import Gsi1, InboxTableItem, Key, lead_key, phone_guard_key, user_guard_key
from whatrack.adapters.dynamo.writes import get_or_none, put_if_absent, set_if_later, storage, transact
from whatrack.domain.clock import iso
from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import Lead, LeadSource, ResolvedLead

RESOLVE_ATTEMPTS = 4


class LeadItem(InboxTableItem):
    by_organization = Gsi1()
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
    correlation_id = UnicodeAttribute(null=True)


class GuardItem(InboxTableItem):
    """A uniqueness guard: an identity's lead, or a conversation's open ticket."""

    lead_id = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute(null=True)


def to_lead(item: LeadItem) -> Lead:
    return Lead(
        id=item.id,
        organization_id=item.organization_id,
        source=LeadSource(item.source),
        created_at=item.created_at,
        has_history=bool(item.has_history),
        phone_number=item.phone_number,
        wa_id=item.wa_id,
        user_id=item.user_id,
        push_name=item.push_name,
        is_active=bool(item.is_active),
        last_message_at=item.last_message_at,
        last_synced_at=item.last_synced_at,
        deleted_at=item.deleted_at,
        correlation_id=item.correlation_id,
    )


def guard_keys(organization_id: str, identity: ContactIdentity) -> list[Key]:
    keys = []
    if identity.phone:
        keys.append(phone_guard_key(organization_id, identity.phone))
    if identity.user_id:
        keys.append(user_guard_key(organization_id, identity.user_id))
    return keys


class DynamoLeadRepository:
    def resolve(
        self,
        organization_id: str,
        identity: ContactIdentity,
        source: LeadSource,
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ResolvedLead:
        """The one lead of this person in this organization, created if new (guards make it unique)."""
        for _ in range(RESOLVE_ATTEMPTS):
            found = self._find(organization_id, identity)
            if found is not None:
                self._link_identity(organization_id, found, identity)
                return ResolvedLead(to_lead(found), created=False, tickets_opened=int(found.tickets_opened or 0))
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
                correlation_id=correlation_id,
            )

            def write(tx: TransactWrite, item: LeadItem = item, lead_id: str = lead_id) -> None:
                tx.save(item, condition=LeadItem.pk.does_not_exist())
                for key in guard_keys(organization_id, identity):
                    tx.save(GuardItem(*key, lead_id=lead_id), condition=GuardItem.pk.does_not_exist())

            if transact("lead create", write):
                return ResolvedLead(to_lead(item), created=True)
            # someone else created this person first: read their lead
        raise TransientError("lead identity kept changing while resolving")

    def find(self, organization_id: str, identity: ContactIdentity) -> Lead | None:
        found = self._find(organization_id, identity)
        return None if found is None else to_lead(found)

    def _find(self, organization_id: str, identity: ContactIdentity) -> LeadItem | None:
        for key in guard_keys(organization_id, identity):
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
        for key in guard_keys(organization_id, identity):
            put_if_absent(GuardItem(*key, lead_id=lead.id), "identity link")
        with storage("lead update"):
            LeadItem(*lead_key(lead.id)).update(actions=actions)

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
        if actions:
            with storage("lead update"):
                item.update(actions=actions)
        if message_at is not None:
            set_if_later(item, LeadItem.last_message_at, message_at, "lead last message")
