"""The contact sync in memory (:class:`whatrack.ports.ContactSyncStore`), as ``DynamoContactSync``.

Same rules (``whatrack.domain.contacts``: ``collapse``, ``outcome``, ``applies``), all under the
database lock: the persons of a batch one after the other, as the adapter's transactions do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from tests.fakes.database import InMemoryDatabase, LeadRow, utc
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
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import Lead, LeadSource


class InMemoryContactSync:
    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def _guards(self, kind: str) -> dict[tuple[str, str], str]:
        return self._db.phone_guards if kind == "PHONE" else self._db.user_guards

    def _lead_of(self, organization_id: str, person: PersonChange) -> LeadRow | None:
        for kind, value in person.keys:
            lead_id = self._guards(kind).get((organization_id, value))
            if lead_id:
                return self._db.leads.get(lead_id)  # a guard without its lead: as DynamoDB, no lead
        return None

    def apply(
        self,
        organization_id: str,
        connection_id: str,
        changes: Sequence[ContactChange],
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ContactSyncResult:
        result = ContactSyncResult()
        with self._db.lock:
            for person in collapse(changes):
                result += self._apply(organization_id, connection_id, person, now, correlation_id)
        return result

    def _apply(
        self, organization_id: str, connection_id: str, person: PersonChange, now: datetime, correlation_id: str | None
    ) -> ContactSyncResult:
        reached = {lead for kind, value in person.keys if (lead := self._guards(kind).get((organization_id, value)))}
        rows = [row for lead_id in reached if (row := self._db.leads.get(lead_id)) is not None]
        unfinished = any(row.lead.merged_into or row.lead.absorbing for row in rows)
        merge = (
            ContactSyncResult(to_merge=(person.identity,)) if len(reached) > 1 or unfinished else ContactSyncResult()
        )
        return merge + self._apply_one(organization_id, connection_id, person, now, correlation_id)

    def _apply_one(
        self, organization_id: str, connection_id: str, person: PersonChange, now: datetime, correlation_id: str | None
    ) -> ContactSyncResult:
        row = self._lead_of(organization_id, person)
        if row is None:
            return self._new(organization_id, connection_id, person, now, correlation_id)
        lead = row.lead
        identity = person.identity
        changes: dict[str, object] = {
            attribute: value
            for attribute, value in (
                ("phone_number", identity.phone),
                ("wa_id", identity.wa_id),
                ("user_id", identity.user_id),
            )
            if value and not getattr(lead, attribute)
        }
        if renames(person, row.contact_name_at) and person.named_at is not None:
            changes["push_name"] = identity.name
            row.contact_name_at = utc(person.named_at)
        fresh = applies(person, lead.last_synced_at)
        if fresh:
            state = outcome(person, None)
            changes |= {
                "is_active": state.active,
                "last_synced_at": utc(state.synced_at),
                "deleted_at": None if state.deleted_at is None else utc(state.deleted_at),
            }
        row.lead = replace(lead, **changes)  # type: ignore[arg-type]
        for kind, value in person.keys:
            self._guards(kind).setdefault((organization_id, value), lead.id)
        counted = person.added and self._count(connection_id, lead.id)
        return ContactSyncResult(updated=int(fresh), stale=int(not fresh), counted=int(counted))

    def _new(
        self, organization_id: str, connection_id: str, person: PersonChange, now: datetime, correlation_id: str | None
    ) -> ContactSyncResult:
        keys: list[IdentityKey] = person.keys
        if not person.added:
            written = 0
            for kind, value in keys:
                key = (organization_id, kind, value)
                known = self._db.contact_tombstones.get(key)
                if known is None or known < person.at:
                    self._db.contact_tombstones[key] = utc(person.at)
                    written += 1
            return ContactSyncResult(tombstones=written)
        removed = [self._db.contact_tombstones.get((organization_id, kind, value)) for kind, value in keys]
        state = outcome(person, max((r for r in removed if r is not None), default=None))
        identity = person.identity
        lead = Lead(
            id=new_id(),
            organization_id=organization_id,
            source=LeadSource.STATE_SYNC,
            created_at=utc(now),
            phone_number=identity.phone,
            wa_id=identity.wa_id,
            user_id=identity.user_id,
            push_name=identity.name,
            is_active=state.active,
            last_synced_at=utc(state.synced_at),
            deleted_at=None if state.deleted_at is None else utc(state.deleted_at),
            correlation_id=correlation_id,
        )
        named_at = None if person.named_at is None else utc(person.named_at)
        self._db.leads[lead.id] = LeadRow(lead, contact_name_at=named_at)
        for kind, value in keys:
            self._guards(kind)[(organization_id, value)] = lead.id
        self._count(connection_id, lead.id)
        return ContactSyncResult(created=1, counted=1)

    def _count(self, connection_id: str, lead_id: str) -> bool:
        if not self._db.add_marker("CONTACT", connection_id, lead_id):
            return False
        self._db.connection_row(connection_id).counters["contacts_imported"] += 1
        return True

    def progress(self, connection_id: str, change_id: str) -> int:
        with self._db.lock:
            return self._db.contact_progress.get((connection_id, change_id), 0)

    def save_progress(self, connection_id: str, change_id: str, done: int) -> None:
        with self._db.lock:
            key = (connection_id, change_id)
            self._db.contact_progress[key] = max(done, self._db.contact_progress.get(key, 0))
