"""In-memory fakes of every port in :mod:`whatrack.ports`, for the unit tier.

They share one :class:`InMemoryDatabase` (one lock) and reproduce the conditional semantics of
the DynamoDB adapters; ``tests/integration/test_port_contracts.py`` runs one suite against both.
:class:`InMemoryWorld` builds all of them with the services wired on top.

* ``webhooks`` — archive, publisher, secrets, connection directory, webhook log;
* ``accounts`` — organizations, token vault, connections, history-sync state;
* ``inbox`` — leads, conversations, messages, tickets, audit log;
* ``reader`` — the status API's read side; ``world`` — everything together.
"""

from tests.fakes.accounts import InMemoryConnections, InMemoryHistorySync, InMemoryOrganizations, InMemoryVault
from tests.fakes.database import InMemoryDatabase
from tests.fakes.inbox import (
    InMemoryAuditLog,
    InMemoryConversations,
    InMemoryLeads,
    InMemoryMessages,
    InMemoryTickets,
)
from tests.fakes.reader import InMemoryReader
from tests.fakes.webhooks import (
    InMemoryArchive,
    InMemoryDirectory,
    InMemoryWebhookLog,
    RecordingPublisher,
    StaticSecrets,
)
from tests.fakes.world import InMemoryWorld

__all__ = [
    "InMemoryArchive",
    "InMemoryAuditLog",
    "InMemoryConnections",
    "InMemoryConversations",
    "InMemoryDatabase",
    "InMemoryDirectory",
    "InMemoryHistorySync",
    "InMemoryLeads",
    "InMemoryMessages",
    "InMemoryOrganizations",
    "InMemoryReader",
    "InMemoryTickets",
    "InMemoryVault",
    "InMemoryWebhookLog",
    "InMemoryWorld",
    "RecordingPublisher",
    "StaticSecrets",
]
