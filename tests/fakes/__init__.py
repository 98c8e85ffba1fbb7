"""In-memory fakes of every port in :mod:`whatrack.ports`, for the unit tier.

They share one :class:`InMemoryDatabase` (one lock) and reproduce the conditional semantics of
the DynamoDB adapters; ``tests/integration/contracts/`` runs one suite against both.
:class:`InMemoryWorld` builds all of them with the services wired on top.

* ``webhooks`` — archive, publisher, secrets, connection directory, webhook log;
* ``accounts`` — organizations, token vault, connections, history-sync state;
* ``inbox`` — leads, conversations, messages, tickets, audit log; ``contacts`` — the contact sync;
* ``reader`` — the status API's read side; ``world`` — everything together;
* ``media`` — the media jobs, each message's media state, our bucket;
* ``operations`` — notifier, metrics, clock. Meta's side is ``devstack.meta.MetaSimulator`` (the local stack's).
"""

from tests.fakes.accounts import InMemoryConnections, InMemoryHistorySync, InMemoryOrganizations, InMemoryVault
from tests.fakes.contacts import InMemoryContactSync
from tests.fakes.database import InMemoryDatabase
from tests.fakes.history_threads import InMemoryHistoryThreads
from tests.fakes.inbox import (
    InMemoryAuditLog,
    InMemoryConversations,
    InMemoryLeads,
    InMemoryMessages,
    InMemoryTickets,
)
from tests.fakes.media import InMemoryMediaFiles, InMemoryMediaState, RecordingMediaJobs
from tests.fakes.operations import Clock, RecordingMetrics, RecordingNotifier
from tests.fakes.reader import InMemoryReader
from tests.fakes.webhooks import (
    InMemoryArchive,
    InMemoryDirectory,
    InMemoryWebhookLog,
    RecordingPublisher,
    RecordingReplayJobs,
    StaticSecrets,
)
from tests.fakes.world import InMemoryWorld

__all__ = [
    "Clock",
    "InMemoryArchive",
    "InMemoryAuditLog",
    "InMemoryConnections",
    "InMemoryContactSync",
    "InMemoryConversations",
    "InMemoryDatabase",
    "InMemoryDirectory",
    "InMemoryHistorySync",
    "InMemoryHistoryThreads",
    "InMemoryLeads",
    "InMemoryMediaFiles",
    "InMemoryMediaState",
    "InMemoryMessages",
    "InMemoryOrganizations",
    "InMemoryReader",
    "InMemoryTickets",
    "InMemoryVault",
    "InMemoryWebhookLog",
    "InMemoryWorld",
    "RecordingMediaJobs",
    "RecordingMetrics",
    "RecordingNotifier",
    "RecordingPublisher",
    "RecordingReplayJobs",
    "StaticSecrets",
]
