"""A history chunk's counterparts resolved together (InboxTable): a few requests per chunk, not per thread.

Per round: one ``BatchGetItem`` (≤ 100 keys a page, consistent) of the persons' identity guards, one
of the leads they reach, those leads' conversations on the connection and their history-thread
markers (a thread counted in an earlier chunk is not counted again: no refused transaction), then
``TransactWriteItems`` of ≤ 100 items packing many persons: a new lead (already ``hasHistory``, with
its ``lastMessageAt``) lands with its guards (its conversation is opened by the import, in the
transaction of its first messages, with their count); an existing lead gets its flags
and the missing half of its identity in one conditional update, its conversation its upsert, and
only when the read shows they are behind (both only ever move forward, so a skipped write is one a
later state already covers). A write refused by a concurrent writer sends its person to the next
round, which reads again. A person whose ids reach two leads, or a lead in a merge (§8.10), is left
to the one-by-one resolve (``None``), which finishes the merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from whatrack.adapters.dynamo.batches import Group, Write, read_items, write_groups
from whatrack.adapters.dynamo.conversations import ConversationItem, upsert
from whatrack.adapters.dynamo.leads import GuardItem, LeadItem, guard_keys, new_lead_item
from whatrack.adapters.dynamo.tables import InboxTableItem, Key, conversation_key, history_thread_key, lead_key
from whatrack.domain.errors import TransientError
from whatrack.domain.history import ResolvedThreads, ThreadCounterpart
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import LeadSource, conversation_id_for

PLAN_ATTEMPTS = 4


@dataclass
class _Person:
    """The counterparts of one identity (several threads of a chunk may share one)."""

    identity: ContactIdentity
    last_message_at: datetime
    indexes: list[int] = field(default_factory=list)


def collapse(counterparts: Sequence[ThreadCounterpart]) -> list[_Person]:
    persons: dict[tuple[str | None, str | None], _Person] = {}
    for index, counterpart in enumerate(counterparts):
        identity = counterpart.identity
        key = (identity.phone, identity.user_id)
        person = persons.get(key)
        if person is None:
            persons[key] = person = _Person(identity, counterpart.last_message_at)
        else:
            person.last_message_at = max(person.last_message_at, counterpart.last_message_at)
            if person.identity.name is None and identity.name:
                person.identity = identity
        person.indexes.append(index)
    return list(persons.values())


class DynamoHistoryThreads:
    """:class:`whatrack.ports.HistoryThreadStore` on the InboxTable (``workers``: parallel requests)."""

    def __init__(self, *, workers: int = 1) -> None:
        self._workers = workers

    def resolve_threads(
        self,
        organization_id: str,
        connection_id: str,
        counterparts: Sequence[ThreadCounterpart],
        now: datetime,
        *,
        correlation_id: str | None = None,
    ) -> ResolvedThreads:
        lead_ids: list[str | None] = [None] * len(counterparts)
        counted = [False] * len(counterparts)
        opens = [False] * len(counterparts)
        pending = collapse(counterparts)
        created = 0
        for _ in range(PLAN_ATTEMPTS):
            plan = _Plan(organization_id, connection_id, now, correlation_id, self._workers)
            plan.read(pending)
            for person in pending:
                plan.add(person)
            landed = write_groups(plan.groups, workers=self._workers)
            pending = plan.deferred + [person for index, person in plan.needed.items() if not landed[index]]
            created += sum(1 for index in plan.creating if landed[index])
            for person, lead_id in plan.resolved(landed):
                for index in person.indexes:
                    lead_ids[index] = lead_id
                    counted[index] = lead_id is not None and plan.counted(lead_id)
                    opens[index] = lead_id is not None and lead_id in plan.opening
            if not pending:
                return ResolvedThreads(tuple(lead_ids), created=created, counted=tuple(counted), opens=tuple(opens))
            # another writer changed some of these persons meanwhile: read them again
        raise TransientError("history counterparts kept changing while resolving")


class _Plan:
    """One round's reads, and the write groups they lead to."""

    def __init__(
        self, organization_id: str, connection_id: str, now: datetime, correlation_id: str | None, workers: int
    ) -> None:
        self.organization_id = organization_id
        self.connection_id = connection_id
        self.now = now
        self.correlation_id = correlation_id
        self.workers = workers
        self.guards: dict[Key, dict[str, Any]] = {}
        self.rest: dict[Key, dict[str, Any]] = {}
        self.groups: list[Group] = []
        self.needed: dict[int, _Person] = {}
        """Groups that must land for their person to be resolved (a refusal: read again)."""
        self.creating: set[int] = set()
        self.opening: set[str] = set()
        """New leads, whose conversation the import opens."""
        self.outcomes: list[tuple[_Person, str | None]] = []
        self.deferred: list[_Person] = []
        self.claimed: set[Key] = set()

    def leads_of(self, person: _Person) -> list[str]:
        found: list[str] = []
        for key in guard_keys(self.organization_id, person.identity):
            raw = self.guards.get(key)
            lead_id = GuardItem.from_raw_data(raw).lead_id if raw else None
            if lead_id and lead_id not in found:
                found.append(lead_id)
        return found

    def read(self, persons: Sequence[_Person]) -> None:
        org = self.organization_id
        keys = [key for person in persons for key in guard_keys(org, person.identity)]
        self.guards = read_items(InboxTableItem, keys, workers=self.workers)
        second: list[Key] = []
        for person in persons:
            for lead_id in self.leads_of(person):
                conversation_id = conversation_id_for(lead_id, self.connection_id)
                second += [
                    lead_key(lead_id),
                    conversation_key(conversation_id),
                    history_thread_key(self.connection_id, conversation_id),
                ]
        self.rest = read_items(InboxTableItem, second, workers=self.workers)

    def _group(self, person: _Person, writes: list[Write], *, needed: bool) -> int:
        self.groups.append(Group(writes))
        index = len(self.groups) - 1
        if needed:
            self.needed[index] = person
        return index

    def add(self, person: _Person) -> None:
        keys = guard_keys(self.organization_id, person.identity)
        found = self.leads_of(person)
        lead_key_ = lead_key(found[0]) if len(found) == 1 else None
        if (lead_key_ is not None and lead_key_ in self.claimed) or any(k in self.claimed for k in keys):
            self.deferred.append(person)  # shares a lead or a guard with a person of this round: next round
            return
        if len(found) > 1:
            self.outcomes.append((person, None))  # one person known as two leads (§8.10)
            return
        self.claimed.update(keys)
        if not found:
            self._new(person)
            return
        raw = self.rest.get(lead_key(found[0]))
        lead = LeadItem.from_raw_data(raw) if raw else None
        if lead is None or lead.merged_into or lead.absorbing:
            self.outcomes.append((person, None))  # a merge cut short (or a guard ahead of its lead)
            return
        self.claimed.add(lead_key(lead.id))
        self._existing(person, lead, keys)

    def _new(self, person: _Person) -> None:
        org, identity, at = self.organization_id, person.identity, person.last_message_at
        lead_id = new_id()
        lead = new_lead_item(
            LeadItem,
            org,
            lead_id,
            identity,
            LeadSource.HISTORY_SYNC,
            self.now,
            correlation_id=self.correlation_id,
            has_history=True,
            last_message_at=at,
        )
        writes = [Write(lead, LeadItem.pk.does_not_exist())]
        writes += [
            Write(GuardItem(*key, lead_id=lead_id), GuardItem.pk.does_not_exist()) for key in guard_keys(org, identity)
        ]
        # its conversation is opened by the import, with its first messages and their count
        index = self._group(person, writes, needed=True)
        self.creating.add(index)
        self.opening.add(lead_id)
        self.outcomes.append((person, lead_id))

    def _existing(self, person: _Person, lead: LeadItem, keys: list[Key]) -> None:
        identity, at = person.identity, person.last_message_at
        actions: list[Any] = [
            attribute.set(attribute | value)  # the missing half of the identity
            for attribute, value in (
                (LeadItem.phone_number, identity.phone),
                (LeadItem.wa_id, identity.wa_id),
                (LeadItem.user_id, identity.user_id),
            )
            if value and not getattr(lead, attribute.attr_name)
        ]
        if actions:
            for key in keys:
                if key not in self.guards:  # refused when another lead took it meanwhile: left as it is
                    self._group(
                        person, [Write(GuardItem(*key, lead_id=lead.id), GuardItem.pk.does_not_exist())], needed=False
                    )
        condition = LeadItem.pk.exists() & LeadItem.merged_into.does_not_exist()
        if not lead.has_history:
            actions.append(LeadItem.has_history.set(True))
        if lead.last_message_at is None or lead.last_message_at < at:
            actions.append(LeadItem.last_message_at.set(at))
            later = LeadItem.last_message_at.does_not_exist() | (LeadItem.last_message_at < at)
            condition = condition & later
        if actions:
            self._group(person, [Write(LeadItem(*lead_key(lead.id)), condition, actions)], needed=True)
        self._conversation(person, lead.id)
        self.outcomes.append((person, lead.id))

    def _conversation(self, person: _Person, lead_id: str) -> None:
        at = person.last_message_at
        key = conversation_key(conversation_id_for(lead_id, self.connection_id))
        raw = self.rest.get(key)
        current = ConversationItem.from_raw_data(raw) if raw else None
        if current is not None and current.id and current.last_message_at and current.last_message_at >= at:
            return  # created, with a later message already (a retired one refuses the messages' transaction)
        actions, condition = upsert(self.organization_id, lead_id, self.connection_id, self.now, at)
        # refused: a concurrent upsert moved it further, or it was retired (the messages then refuse)
        self._group(person, [Write(ConversationItem(*key), condition, actions)], needed=False)

    def counted(self, lead_id: str) -> bool:
        """Whether the lead's thread on the connection was counted already (its marker was read)."""
        return history_thread_key(self.connection_id, conversation_id_for(lead_id, self.connection_id)) in self.rest

    def resolved(self, landed: list[bool]) -> list[tuple[_Person, str | None]]:
        """The persons this round settled (those whose needed writes all landed)."""
        refused = {id(person) for index, person in self.needed.items() if not landed[index]}
        return [(person, lead_id) for person, lead_id in self.outcomes if id(person) not in refused]
