"""Leads and their identity guards (InboxTable): one lead per (organization, phone) and (organization, user id).

Uniqueness is enforced by conditional writes, never by reads: the guard items
``ORG#<org>#PHONE#<e164>`` / ``ORG#<org>#USER#<bsuid>`` are written in the lead's creation transaction.
When a phone and a user id known as two leads meet (§8.10), the newer lead is retired into the older
(``merged_into``, out of the organization's list) in the same transaction that marks the older
``absorbing`` it; the guards are pointed at the survivor, and the mark removed, last. Both marks come
back with the lead item a resolve reads anyway, so a merge cut short is found, and finished, by the
next resolve of either id at no extra request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo.tables import (
    Activity1,
    Gsi1,
    InboxTableItem,
    Key,
    lead_key,
    phone_guard_key,
    user_guard_key,
)
from whatrack.adapters.dynamo.writes import get_or_none, put_if_absent, storage, transact, update_if
from whatrack.domain.clock import iso
from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import Lead, LeadSource, ResolvedLead

RESOLVE_ATTEMPTS = 4
MAX_REDIRECTS = 4


class LeadItem(InboxTableItem):
    by_organization = Gsi1()
    by_activity = Activity1()
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
    merged_into = UnicodeAttribute(null=True)
    absorbing = UnicodeAttribute(null=True)
    contact_name_at = UTCDateTimeAttribute(null=True)
    """When the contact sync last named it (contact names are ordered on their own)."""


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
        merged_into=item.merged_into,
        absorbing=item.absorbing,
    )


def resolved(item: LeadItem, other: LeadItem | None = None) -> ResolvedLead:
    return ResolvedLead(
        to_lead(item),
        created=False,
        tickets_opened=int(item.tickets_opened or 0),
        other=None if other is None else to_lead(other),
    )


def survivor_of(item: LeadItem | None) -> LeadItem | None:
    """The lead a merged lead now is (follows ``merged_into``; one consistent read per hop)."""
    for _ in range(MAX_REDIRECTS):
        if item is None or not item.merged_into:
            return item
        item = get_or_none(LeadItem, lead_key(item.merged_into), consistent_read=True)
    raise TransientError("lead merges kept changing while following them")


def guard_keys(organization_id: str, identity: ContactIdentity) -> list[Key]:
    keys = []
    if identity.phone:
        keys.append(phone_guard_key(organization_id, identity.phone))
    if identity.user_id:
        keys.append(user_guard_key(organization_id, identity.user_id))
    return keys


def new_lead_item[L: LeadItem](
    model: type[L],
    organization_id: str,
    lead_id: str,
    identity: ContactIdentity,
    source: LeadSource,
    now: datetime,
    *,
    correlation_id: str | None = None,
    **fields: Any,
) -> L:
    """A lead item not stored yet, listed in its organization's leads by creation time; ``fields``
    set what its creator knows beyond that (active, history flag, times...)."""
    defaults: dict[str, Any] = {"is_active": True, "has_history": False}
    return model(
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
        created_at=now,
        tickets_opened=0,
        correlation_id=correlation_id,
        **(defaults | fields),
    )


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
            found = self._leads(organization_id, identity)
            if found:
                first, other = found[0], (found[1] if len(found) > 1 else None)
                if other is None:
                    self._link_identity(organization_id, first, identity)
                return resolved(first, other)
            lead_id = new_id()
            item = new_lead_item(
                LeadItem, organization_id, lead_id, identity, source, now, correlation_id=correlation_id
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
        found = self._leads(organization_id, identity)
        return None if not found else to_lead(survivor_of(found[0]) or found[0])

    def _leads(self, organization_id: str, identity: ContactIdentity) -> list[LeadItem]:
        """The leads the identity's guards reach (phone first; both guards in one read): one lead, or
        two when they are two leads of one person, or a merged lead after the lead it became."""
        keys = guard_keys(organization_id, identity)
        if len(keys) == 1:
            guards = [get_or_none(GuardItem, keys[0], consistent_read=True)]
        elif keys:
            with storage("guards get"):
                by_key = {(g.pk, g.sk): g for g in GuardItem.batch_get(keys, consistent_read=True)}
            guards = [by_key.get(key) for key in keys]
        else:
            guards = []
        lead_ids = list(dict.fromkeys(g.lead_id for g in guards if g is not None and g.lead_id))
        leads = [lead for i in lead_ids if (lead := get_or_none(LeadItem, lead_key(i), consistent_read=True))]
        survivors = list({s.id: s for lead in leads if (s := survivor_of(lead)) is not None}.values())
        if len(survivors) != 1:
            return survivors[:2]
        merged = next((lead for lead in leads if lead.merged_into), None)
        return survivors if merged is None else [survivors[0], merged]

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
        _redirects: int = 0,
    ) -> None:
        actions: list[Any] = []
        if has_history:
            actions.append(LeadItem.has_history.set(True))
        # a live message's profile name replaces the name only if no later event named the person
        # (the App's contact name has its time too): the latest event's name, whatever the order
        named_by_time = bool(push_name and overwrite_name and message_at is not None)
        if push_name and not named_by_time:
            actions.append(LeadItem.push_name.set(push_name if overwrite_name else LeadItem.push_name | push_name))
        if synced_at is not None:
            actions.append(LeadItem.last_synced_at.set(synced_at))
        if active is True:
            actions += [LeadItem.is_active.set(True), LeadItem.deleted_at.remove()]
        elif active is False and synced_at is not None:
            actions += [LeadItem.is_active.set(False), LeadItem.deleted_at.set(synced_at)]
        item = LeadItem(*lead_key(lead_id))
        merged_into = None
        if actions:
            with storage("lead update"):
                item.update(actions=actions)
            merged_into = item.merged_into
        if named_by_time:
            assert message_at is not None and push_name is not None
            named = LeadItem.contact_name_at
            newer = LeadItem.merged_into.exists() | named.does_not_exist() | (named <= message_at)
            if update_if(item, [LeadItem.push_name.set(push_name), named.set(message_at)], newer, "lead name"):
                merged_into = item.merged_into
        if message_at is not None:
            later = LeadItem.last_message_at.does_not_exist() | (LeadItem.last_message_at < message_at)
            condition = LeadItem.merged_into.exists() | later
            if update_if(item, [LeadItem.last_message_at.set(message_at)], condition, "lead last message"):
                merged_into = item.merged_into
        if merged_into and _redirects < MAX_REDIRECTS:
            # written on a lead merged meanwhile (§8.10): the lead it became takes it too
            self.update(
                merged_into,
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
        """Mark the lead merged into ``into`` (out of the organization's list) and ``into`` absorbing it,
        in one transaction (a lead is never both); its state (a consistent read: merges are rare)."""
        if lead_id == into:
            return None

        def write(tx: TransactWrite) -> None:
            tx.update(
                LeadItem(*lead_key(lead_id)),
                actions=[LeadItem.merged_into.set(into), LeadItem.gsi1pk.remove(), LeadItem.gsi1sk.remove()],
                condition=LeadItem.pk.exists()
                & (LeadItem.merged_into.does_not_exist() | (LeadItem.merged_into == into))
                & LeadItem.absorbing.does_not_exist(),
            )
            tx.update(
                LeadItem(*lead_key(into)),
                actions=[LeadItem.absorbing.set(lead_id)],
                condition=LeadItem.pk.exists()
                & LeadItem.merged_into.does_not_exist()
                & (LeadItem.absorbing.does_not_exist() | (LeadItem.absorbing == lead_id)),
            )

        if not transact("lead merge", write):
            return None
        item = get_or_none(LeadItem, lead_key(lead_id), consistent_read=True)
        return None if item is None else resolved(item)

    def absorb(self, lead_id: str, merged: ResolvedLead) -> ResolvedLead:
        """What the merged lead knew joins this one; every write is idempotent (a re-run changes nothing)."""
        old = merged.lead
        item = LeadItem(*lead_key(lead_id))
        actions: list[Any] = [
            attribute.set(attribute | value)
            for attribute, value in (
                (LeadItem.phone_number, old.phone_number),
                (LeadItem.wa_id, old.wa_id),
                (LeadItem.user_id, old.user_id),
                (LeadItem.push_name, old.push_name),
            )
            if value
        ]
        if old.is_history_lead:
            actions.append(LeadItem.has_history.set(True))
        if actions:
            update_if(item, actions, LeadItem.pk.exists(), "lead absorb")
        if old.last_message_at is not None:
            later = LeadItem.last_message_at.does_not_exist() | (LeadItem.last_message_at < old.last_message_at)
            update_if(item, [LeadItem.last_message_at.set(old.last_message_at)], later, "lead absorb")
        if merged.tickets_opened:
            none_yet = LeadItem.tickets_opened.does_not_exist() | (LeadItem.tickets_opened == 0)
            update_if(item, [LeadItem.tickets_opened.set(merged.tickets_opened)], none_yet, "lead absorb")
        merged_item = get_or_none(LeadItem, lead_key(old.id), consistent_read=True)
        named_at = merged_item.contact_name_at if merged_item is not None else None
        name = merged_item.push_name if merged_item is not None else None  # read with its time
        if named_at is not None and name:  # the newer contact name wins, wherever it was kept
            newer = LeadItem.contact_name_at.does_not_exist() | (LeadItem.contact_name_at < named_at)
            named = [LeadItem.push_name.set(name), LeadItem.contact_name_at.set(named_at)]
            update_if(item, named, newer, "lead absorb")
        if old.last_synced_at is not None:  # the latest contact sync says whether the contact is active
            synced = [LeadItem.last_synced_at.set(old.last_synced_at), LeadItem.is_active.set(old.is_active)]
            synced.append(LeadItem.deleted_at.set(old.deleted_at) if old.deleted_at else LeadItem.deleted_at.remove())
            later = LeadItem.last_synced_at.does_not_exist() | (LeadItem.last_synced_at < old.last_synced_at)
            update_if(item, synced, later, "lead absorb")
        found = get_or_none(LeadItem, lead_key(lead_id), consistent_read=True)
        if found is None:
            raise TransientError(f"lead {lead_id} vanished while merging")
        return resolved(found)

    def repoint(
        self, organization_id: str, identities: Sequence[ContactIdentity], from_lead: str, to_lead: str
    ) -> None:
        """The guards of ``identities`` that point at ``from_lead`` (or none) now point at ``to_lead``."""
        for key in dict.fromkeys(k for identity in identities for k in guard_keys(organization_id, identity)):
            guard = GuardItem(*key)
            if not update_if(guard, [GuardItem.lead_id.set(to_lead)], GuardItem.lead_id == from_lead, "guard repoint"):
                put_if_absent(GuardItem(*key, lead_id=to_lead), "guard repoint")

    def end_merge(self, lead_id: str, merged: str) -> None:
        """The mark goes only if it is this merge's (a finisher running late never clears a newer one)."""
        item = LeadItem(*lead_key(lead_id))
        update_if(item, [LeadItem.absorbing.remove()], LeadItem.absorbing == merged, "lead merge end")
