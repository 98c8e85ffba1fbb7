"""Contact sync (CONTRACT §8.6): what a batch of the Business App's contact changes does to leads.

A change is applied in the order of Meta's ``metadata.timestamp`` (when the contact changed), not
of arrival: a lead remembers the time of the contact change it shows (``lastSyncedAt``) and an
older change never overwrites it (equal times: the one applied last wins, as within one change).
A ``remove`` of a person we do not know yet leaves a tombstone (per phone / user id) so that its
older ``add``, arriving later, creates the lead already removed, as if they had come in order.

Every adapter applies a batch through :func:`collapse` and :func:`outcome`, so the in-memory fake
and DynamoDB cannot disagree on the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from whatrack.domain.identity import ContactIdentity

CONTACT_BATCH = 99
"""Contacts applied together: one ``BatchGetItem`` of their identity guards (≤ 100 keys), and new
leads in 3 transactions (33 x lead + guard + marker, and the connection's counter: 100 items)."""
IdentityKey = tuple[str, str]
"""``("PHONE", e164)`` or ``("USER", bsuid)``: what makes a person one lead per organization."""


class ContactAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True)
class ContactChange:
    """One ``state_sync[]`` item: ``at`` is when the contact changed (the webhook's time if absent)."""

    identity: ContactIdentity
    action: ContactAction
    at: datetime


def identity_keys(identity: ContactIdentity) -> list[IdentityKey]:
    """The phone's key first (lookups try it first), then the user id's."""
    keys: list[IdentityKey] = []
    if identity.phone:
        keys.append(("PHONE", identity.phone))
    if identity.user_id:
        keys.append(("USER", identity.user_id))
    return keys


@dataclass(frozen=True)
class PersonChange:
    """The changes of one batch that name the same person (sharing a phone or a user id)."""

    identity: ContactIdentity
    """Every id the batch gives for this person (the latest change's first); ``name``: the latest add's."""
    action: ContactAction
    at: datetime
    added: bool
    """An ``add`` is among them: the contact sync brought this lead to the connection (counted once)."""
    named_at: datetime | None = None
    """When the App gave ``identity.name`` (the latest add with a name): names have their own order,
    an add older than the lead's state still names it if no later add did."""

    @property
    def keys(self) -> list[IdentityKey]:
        return identity_keys(self.identity)


def collapse(changes: Sequence[ContactChange]) -> list[PersonChange]:
    """Group ``changes`` by person (union of shared keys); the latest wins, later in the batch on ties."""
    parent: dict[IdentityKey, IdentityKey] = {}

    def root(key: IdentityKey) -> IdentityKey:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for change in changes:
        first, *rest = identity_keys(change.identity)
        for key in rest:
            parent[root(key)] = root(first)
    groups: dict[IdentityKey, list[ContactChange]] = {}
    for change in changes:
        groups.setdefault(root(identity_keys(change.identity)[0]), []).append(change)
    return [_person(group) for group in groups.values()]


def _person(group: list[ContactChange]) -> PersonChange:
    ordered = sorted(enumerate(group), key=lambda pair: (pair[1].at, pair[0]), reverse=True)
    latest = ordered[0][1]
    identities = [change.identity for _, change in ordered]
    adds = [change for _, change in ordered if change.action is ContactAction.ADD]

    def first(attribute: str) -> str | None:
        return next((getattr(i, attribute) for i in identities if getattr(i, attribute)), None)

    named = next((a for a in adds if a.identity.name), None)
    identity = ContactIdentity(
        phone=first("phone"),
        wa_id=first("wa_id"),
        user_id=first("user_id"),
        name=named.identity.name if named else None,
    )
    return PersonChange(
        identity=identity,
        action=latest.action,
        at=latest.at,
        added=bool(adds),
        named_at=named.at if named else None,
    )


@dataclass(frozen=True)
class LeadContactState:
    """What a contact change sets on a lead: ``lastSyncedAt``, and ``deletedAt`` for a remove."""

    active: bool
    synced_at: datetime

    @property
    def deleted_at(self) -> datetime | None:
        return None if self.active else self.synced_at


def outcome(person: PersonChange, removed_at: datetime | None) -> LeadContactState:
    """The state of ``person``'s lead after this batch and an earlier-applied remove at ``removed_at``
    (a tombstone), whichever is later (the batch wins ties: it arrived last)."""
    if removed_at is not None and removed_at > person.at:
        return LeadContactState(active=False, synced_at=removed_at)
    return LeadContactState(active=person.action is ContactAction.ADD, synced_at=person.at)


def applies(person: PersonChange, lead_synced_at: datetime | None) -> bool:
    """Whether the batch's change is not older than the one the lead shows."""
    return lead_synced_at is None or lead_synced_at <= person.at


def renames(person: PersonChange, lead_named_at: datetime | None) -> bool:
    """Whether the batch's name is not older than the one the contact sync last gave the lead."""
    return person.named_at is not None and (lead_named_at is None or lead_named_at <= person.named_at)


@dataclass(frozen=True)
class ContactSyncResult:
    """What one batch did (for metrics and logs)."""

    created: int = 0
    updated: int = 0
    stale: int = 0
    """Persons whose lead shows a later contact change: left as they were."""
    tombstones: int = 0
    counted: int = 0
    """Leads newly counted in the connection's ``contactsImported`` (and listed under it)."""
    to_merge: tuple[ContactIdentity, ...] = ()
    """Persons whose phone and user id reach two leads (§8.10): applied to the first, to be merged."""

    def __add__(self, other: ContactSyncResult) -> ContactSyncResult:
        return ContactSyncResult(
            self.created + other.created,
            self.updated + other.updated,
            self.stale + other.stale,
            self.tombstones + other.tombstones,
            self.counted + other.counted,
            self.to_merge + other.to_merge,
        )
