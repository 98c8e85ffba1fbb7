"""A connection's contact sync (CONTRACT §8.6) a batch at a time, and its checkpoint (InboxTable).

Per batch: one ``BatchGetItem`` of the persons' identity guards, one of their leads, contact
markers and tombstones, then ``TransactWriteItems`` of ≤ 100 items packing many persons: a new
lead with its guards, marker and ``contactsImported`` +1 land together; an update of an existing
lead is conditional on the contact change it shows being older (``lastSyncedAt``). Nothing is
read-then-written without a condition, so redeliveries and concurrent batches stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UTCDateTimeAttribute

from whatrack.adapters.dynamo.batches import Group, Write, read_items, write_groups
from whatrack.adapters.dynamo.connections import ConnectionItem
from whatrack.adapters.dynamo.leads import GuardItem, LeadItem, new_lead_item
from whatrack.adapters.dynamo.tables import (
    InboxTableItem,
    Key,
    MarkerItem,
    connection_key,
    connection_members,
    lead_key,
    marker_key,
    phone_guard_key,
    user_guard_key,
)
from whatrack.adapters.dynamo.writes import Increment, get_or_none, update_if
from whatrack.domain.contacts import (
    ContactChange,
    ContactSyncResult,
    IdentityKey,
    PersonChange,
    applies,
    collapse,
    outcome,
    renames,
)
from whatrack.domain.errors import TransientError
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import LeadSource

PLAN_ATTEMPTS = 4


ContactLeadItem = LeadItem
"""A lead, with the time of the name the contact sync gave it (``contact_name_at``)."""


class ContactTombstoneItem(InboxTableItem):
    """``ORG#<org>#REMOVED#<PHONE|USER>#<id>``: the App removed a person we had no lead for."""

    removed_at = UTCDateTimeAttribute()


class ContactProgressItem(InboxTableItem):
    """``PROGRESS#<connection>#<change>`` / ``CONTACTS``: how many of a change's contacts are applied."""

    done = NumberAttribute()


def guard_key(organization_id: str, key: IdentityKey) -> Key:
    kind, value = key
    return phone_guard_key(organization_id, value) if kind == "PHONE" else user_guard_key(organization_id, value)


def tombstone_key(organization_id: str, key: IdentityKey) -> Key:
    return f"ORG#{organization_id}#REMOVED#{key[0]}#{key[1]}", "TOMBSTONE"


def progress_key(connection_id: str, change_id: str) -> Key:
    return f"PROGRESS#{connection_id}#{change_id}", "CONTACTS"


def contact_marker(connection_id: str, lead_id: str) -> MarkerItem:
    return MarkerItem(
        *marker_key("CONTACT", connection_id, lead_id),
        gsi2pk=connection_members(connection_id),
        gsi2sk=f"{lead_id}#CONTACT",
    )


class DynamoContactSync:
    """:class:`whatrack.ports.ContactSyncStore` on the InboxTable (counter on the connection)."""

    def apply(
        self,
        organization_id: str,
        connection_id: str,
        changes: Sequence[ContactChange],
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ContactSyncResult:
        persons = collapse(changes)
        result = ContactSyncResult()
        for _ in range(PLAN_ATTEMPTS):
            plan = _Plan(organization_id, connection_id, now, correlation_id)
            plan.read(persons)
            for person in persons:
                plan.add(person)
            landed = write_groups(plan.groups)
            result += plan.result(landed)
            persons = plan.to_retry(landed)
            if not persons:
                return result
            # another writer created some of these persons meanwhile: read them again
        raise TransientError("contact identities kept changing while syncing")

    def progress(self, connection_id: str, change_id: str) -> int:
        found = get_or_none(ContactProgressItem, progress_key(connection_id, change_id), consistent_read=True)
        return int(found.done) if found is not None else 0

    def save_progress(self, connection_id: str, change_id: str, done: int) -> None:
        update_if(
            ContactProgressItem(*progress_key(connection_id, change_id)),
            [ContactProgressItem.done.set(done)],
            ContactProgressItem.done.does_not_exist() | (ContactProgressItem.done < done),
            "contact sync checkpoint",
        )


class _Plan:
    """One batch's reads, and the write groups they lead to (one kind of outcome per group)."""

    def __init__(self, organization_id: str, connection_id: str, now: datetime, correlation_id: str | None) -> None:
        self.organization_id = organization_id
        self.now = now
        self.connection_id = connection_id
        self.correlation_id = correlation_id
        self.groups: list[Group] = []
        self.kinds: list[str] = []
        self.creating: dict[int, PersonChange] = {}
        self.deferred: list[PersonChange] = []
        self.planned: set[str] = set()
        self.stale = 0
        self.guards: dict[Key, dict[str, Any]] = {}
        self.rest: dict[Key, dict[str, Any]] = {}
        self.to_merge: list[ContactIdentity] = []

    def leads_of(self, person: PersonChange) -> list[str]:
        """The distinct leads the person's ids reach (two: one person known as two leads, §8.10)."""
        found: list[str] = []
        for key in person.keys:
            raw = self.guards.get(guard_key(self.organization_id, key))
            lead_id = GuardItem.from_raw_data(raw).lead_id if raw else None
            if lead_id and lead_id not in found:
                found.append(lead_id)
        return found

    def lead_of(self, person: PersonChange) -> str | None:
        found = self.leads_of(person)
        return found[0] if found else None

    def read(self, persons: Sequence[PersonChange]) -> None:
        org = self.organization_id
        self.guards = read_items(InboxTableItem, [guard_key(org, k) for p in persons for k in p.keys])
        second: list[Key] = []
        for person in persons:
            lead_id = self.lead_of(person)
            if lead_id is None:
                second += [tombstone_key(org, k) for k in person.keys]
            else:
                second.append(lead_key(lead_id))
                if person.added:
                    second.append(marker_key("CONTACT", self.connection_id, lead_id))
        self.rest = read_items(InboxTableItem, second)

    def _group(self, kind: str, writes: list[Write], *, counted: bool = False) -> int:
        increments: list[Increment] = (
            [(ConnectionItem, connection_key(self.connection_id), "contacts_imported", 1)] if counted else []
        )
        self.groups.append(Group(writes, increments))
        self.kinds.append(kind)
        return len(self.groups) - 1

    def add(self, person: PersonChange) -> None:
        if len(self.leads_of(person)) > 1:
            self.to_merge.append(person.identity)
        lead_id = self.lead_of(person)
        raw_lead = self.rest.get(lead_key(lead_id)) if lead_id else None
        if lead_id is None or raw_lead is None:
            self._new(person)
        elif lead_id in self.planned:
            # two persons of this batch turned out to be one lead: one write per item and transaction
            self.deferred.append(person)
        else:
            self.planned.add(lead_id)
            lead = ContactLeadItem.from_raw_data(raw_lead)
            if (lead.merged_into or lead.absorbing) and person.identity not in self.to_merge:
                # a merge cut short (§8.10): the change lands here and the merge, finished after the
                # batch, carries the latest contact state over to the survivor
                self.to_merge.append(person.identity)
            self._existing(person, lead)

    def _new(self, person: PersonChange) -> None:
        org = self.organization_id
        if not person.added:
            for key in person.keys:  # a remove of someone we do not know: remember it, create nothing
                tombstone = ContactTombstoneItem(*tombstone_key(org, key))
                later = ContactTombstoneItem.removed_at.does_not_exist() | (ContactTombstoneItem.removed_at < person.at)
                self._group("tombstone", [Write(tombstone, later, [ContactTombstoneItem.removed_at.set(person.at)])])
            return
        removed = [self.rest.get(tombstone_key(org, k)) for k in person.keys]
        removed_at = max((ContactTombstoneItem.from_raw_data(r).removed_at for r in removed if r), default=None)
        state = outcome(person, removed_at)
        identity = person.identity
        lead_id = new_id()
        lead = new_lead_item(
            ContactLeadItem,
            org,
            lead_id,
            identity,
            LeadSource.STATE_SYNC,
            self.now,
            correlation_id=self.correlation_id,
            contact_name_at=person.named_at,
            is_active=state.active,
            last_synced_at=state.synced_at,
            deleted_at=state.deleted_at,
        )
        writes = [Write(lead, ContactLeadItem.pk.does_not_exist())]
        writes += [
            Write(GuardItem(*guard_key(org, k), lead_id=lead_id), GuardItem.pk.does_not_exist()) for k in person.keys
        ]
        marker = contact_marker(self.connection_id, lead_id)
        writes.append(Write(marker, MarkerItem.pk.does_not_exist()))
        self.creating[self._group("create", writes, counted=True)] = person

    def _existing(self, person: PersonChange, lead: ContactLeadItem) -> None:
        org, identity = self.organization_id, person.identity
        actions: list[Any] = []
        for attribute, value in (
            (LeadItem.phone_number, identity.phone),
            (LeadItem.wa_id, identity.wa_id),
            (LeadItem.user_id, identity.user_id),
        ):
            if value and not getattr(lead, attribute.attr_name):
                actions.append(attribute.set(attribute | value))  # the missing half of the identity
        condition = LeadItem.pk.exists()
        name, named = identity.name, person.named_at
        if renames(person, lead.contact_name_at) and name and named:
            named_at = ContactLeadItem.contact_name_at
            actions += [LeadItem.push_name.set(name), named_at.set(named)]
            condition = condition & (named_at.does_not_exist() | (named_at <= named))
        if applies(person, lead.last_synced_at):
            state = outcome(person, None)
            actions.append(LeadItem.last_synced_at.set(state.synced_at))
            if state.active:
                actions += [LeadItem.is_active.set(True), LeadItem.deleted_at.remove()]
            else:
                actions += [LeadItem.is_active.set(False), LeadItem.deleted_at.set(state.synced_at)]
            synced = LeadItem.last_synced_at
            condition = condition & (synced.does_not_exist() | (synced <= person.at))
            self._group("update", [Write(ContactLeadItem(*lead_key(lead.id)), condition, actions)])
        else:
            self.stale += 1
            if actions:
                self._group("link", [Write(ContactLeadItem(*lead_key(lead.id)), condition, actions)])
        for key in person.keys:
            if guard_key(org, key) not in self.guards:
                guard = GuardItem(*guard_key(org, key), lead_id=lead.id)
                self._group("link", [Write(guard, GuardItem.pk.does_not_exist())])
        if person.added and marker_key("CONTACT", self.connection_id, lead.id) not in self.rest:
            marker = contact_marker(self.connection_id, lead.id)
            self._group("count", [Write(marker, MarkerItem.pk.does_not_exist())], counted=True)

    def result(self, landed: list[bool]) -> ContactSyncResult:
        done = [kind for kind, ok in zip(self.kinds, landed, strict=True) if ok]
        refused_updates = sum(1 for kind, ok in zip(self.kinds, landed, strict=True) if kind == "update" and not ok)
        return ContactSyncResult(
            created=done.count("create"),
            updated=done.count("update"),
            stale=self.stale + refused_updates,
            tombstones=done.count("tombstone"),
            counted=done.count("create") + done.count("count"),
            to_merge=tuple(self.to_merge),
        )

    def to_retry(self, landed: list[bool]) -> list[PersonChange]:
        return [person for index, person in self.creating.items() if not landed[index]] + self.deferred
