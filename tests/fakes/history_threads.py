"""A history chunk's counterparts resolved together (:class:`whatrack.ports.HistoryThreadStore`), as
``DynamoHistoryThreads``: under the database lock, person by person (the adapter's rounds and
transactions end in the same state), with the same §8.10 fallback (``None``, nothing written)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from tests.fakes.database import InMemoryDatabase, LeadRow, utc
from tests.fakes.inbox import InMemoryConversations, InMemoryLeads
from whatrack.domain.history import ResolvedThreads, ThreadCounterpart
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import Lead, LeadSource, conversation_id_for


class InMemoryHistoryThreads:
    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()
        self._leads = InMemoryLeads(db=self._db)
        self._conversations = InMemoryConversations(db=self._db)

    def _lead_ids(self, organization_id: str, identity: ContactIdentity) -> list[str]:
        found: list[str] = []
        for guards, value in ((self._db.phone_guards, identity.phone), (self._db.user_guards, identity.user_id)):
            lead_id = guards.get((organization_id, value)) if value else None
            if lead_id and lead_id not in found:
                found.append(lead_id)
        return found

    def resolve_threads(
        self,
        organization_id: str,
        connection_id: str,
        counterparts: Sequence[ThreadCounterpart],
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ResolvedThreads:
        lead_ids: list[str | None] = []
        counted: list[bool] = []
        opens: list[bool] = []
        created = 0
        with self._db.lock:
            # one person's threads give it its latest message (the adapter collapses them first)
            latest: dict[tuple[str | None, str | None], datetime] = {}
            for counterpart in counterparts:
                key = (counterpart.identity.phone, counterpart.identity.user_id)
                latest[key] = max(latest.get(key, counterpart.last_message_at), counterpart.last_message_at)
            for counterpart in counterparts:
                identity = counterpart.identity
                at = latest[(identity.phone, identity.user_id)]
                found = self._lead_ids(organization_id, identity)
                if not found:
                    lead_ids.append(self._new(organization_id, identity, at, now, correlation_id))
                    created += 1
                    opens.append(True)  # its conversation is opened by the import
                    counted.append(False)
                    continue
                elif len(found) > 1:
                    lead_ids.append(None)  # one person known as two leads (§8.10)
                else:
                    row = self._db.leads.get(found[0])
                    if row is None or row.lead.merged_into or row.lead.absorbing:
                        lead_ids.append(None)  # a merge cut short (or a guard ahead of its lead)
                        counted.append(False)
                        opens.append(False)
                        continue
                    self._leads._link_identity(organization_id, row, identity)
                    last = row.lead.last_message_at
                    row.lead = replace(
                        row.lead, has_history=True, last_message_at=utc(at) if last is None or last < at else last
                    )
                    lead_ids.append(row.lead.id)
                lead_id = lead_ids[-1]
                opens.append(False)
                if lead_id is not None:
                    self._conversations.ensure(organization_id, lead_id, connection_id, now, at)
                marker = ("HTHREAD", connection_id, conversation_id_for(lead_id, connection_id)) if lead_id else None
                counted.append(marker in self._db.markers)
        return ResolvedThreads(tuple(lead_ids), created=created, counted=tuple(counted), opens=tuple(opens))

    def _new(
        self, organization_id: str, identity: ContactIdentity, at: datetime, now: datetime, correlation_id: str | None
    ) -> str:
        lead = Lead(
            id=new_id(),
            organization_id=organization_id,
            source=LeadSource.HISTORY_SYNC,
            created_at=utc(now),
            has_history=True,
            phone_number=identity.phone,
            wa_id=identity.wa_id,
            user_id=identity.user_id,
            push_name=identity.name,
            is_active=True,
            last_message_at=utc(at),
            correlation_id=correlation_id,
        )
        self._db.leads[lead.id] = LeadRow(lead)
        if identity.phone:
            self._db.phone_guards.setdefault((organization_id, identity.phone), lead.id)
        if identity.user_id:
            self._db.user_guards.setdefault((organization_id, identity.user_id), lead.id)
        return lead.id
