"""One connected number on the in-memory world, read back the way the rules talk about it.

The unit-tier twin of ``tests/integration/harness.py``'s ``Onboarding``: signed Meta bodies go
through ``IngestService.receive``, the published changes through ``ChangeConsumer.consume`` with
the processors of ``build_registry``, and the assertions read the fakes' state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.builders import payloads as b
from tests.fakes import InMemoryWorld
from whatrack.domain.connections import Connection
from whatrack.domain.inbox import Lead, Ticket
from whatrack.domain.log import LogKind, WebhookLogEntry
from whatrack.domain.messages import Message

CUSTOMER = "5491166660001"
OTHER = "5491177770002"
T0 = 1751400000


def at(ts: int) -> datetime:
    """A Meta unix timestamp as the datetime we store."""
    return datetime.fromtimestamp(ts, UTC)


@dataclass
class Onboarded:
    world: InMemoryWorld
    connection: Connection

    @classmethod
    def connect(cls, world: InMemoryWorld | None = None) -> Onboarded:
        """A coexistence connection with history sync of ``payloads.PNID`` (display ``payloads.BIZ``)."""
        world = world or InMemoryWorld()
        return cls(world, world.connect(phone_number_id=b.PNID, display_phone_number=b.BIZ))

    def deliver(self, *documents: Any) -> None:
        self.world.deliver(*documents)

    def state(self) -> Connection:
        found = self.world.connections.get(self.connection.id)
        assert found is not None
        return found

    def messages(self) -> dict[str, Message]:
        return self.world.all_messages()

    def leads(self) -> list[Lead]:
        return self.world.all_leads()

    def lead(self) -> Lead:
        [lead] = self.leads()
        return lead

    def tickets(self) -> list[Ticket]:
        return self.world.all_tickets()

    def ticket(self) -> Ticket:
        [ticket] = self.tickets()
        return ticket

    def webhook_entries(self) -> list[WebhookLogEntry]:
        return list(self.world.webhook_log.entries.values())

    def audit_events(self) -> list[str]:
        return [r.event or "" for r in self.world.logs(self.connection.id) if r.kind is LogKind.AUDIT]
