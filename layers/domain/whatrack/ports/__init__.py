"""Ports: what the services need from the outside world, as Protocols (they import the domain only).

Adapters in :mod:`whatrack.adapters` implement them for AWS; the unit tier uses in-memory fakes,
and one contract suite runs against both so their conditional semantics cannot drift. Every
adapter raises :class:`whatrack.domain.errors.TransientError` when its backend is unavailable.

Writes are conditional and idempotent: methods returning ``bool`` answer whether this call
changed anything (``False`` = already applied, or refused by the rule it encodes).
"""

from __future__ import annotations

from whatrack.ports.accounts import (
    AdminCredentials,
    ConnectionRepository,
    GraphApi,
    HistorySyncStore,
    OrganizationRepository,
    TokenVault,
)
from whatrack.ports.inbox import (
    AuditLog,
    ContactSyncStore,
    ConversationRepository,
    HistoryThreadStore,
    LeadRepository,
    MessageRepository,
    TicketRepository,
)
from whatrack.ports.operations import AlertNotifier, MetricsRecorder, NoMetrics
from whatrack.ports.reads import InboxReader
from whatrack.ports.webhooks import (
    ArchiveStore,
    ChangePublisher,
    ConnectionDirectory,
    ReplayJobQueue,
    WebhookLog,
    WebhookSecrets,
)

__all__ = [
    "AdminCredentials",
    "AlertNotifier",
    "ArchiveStore",
    "AuditLog",
    "ChangePublisher",
    "ConnectionDirectory",
    "ConnectionRepository",
    "ContactSyncStore",
    "ConversationRepository",
    "GraphApi",
    "HistorySyncStore",
    "HistoryThreadStore",
    "InboxReader",
    "LeadRepository",
    "MessageRepository",
    "MetricsRecorder",
    "NoMetrics",
    "OrganizationRepository",
    "ReplayJobQueue",
    "TicketRepository",
    "TokenVault",
    "WebhookLog",
    "WebhookSecrets",
]
