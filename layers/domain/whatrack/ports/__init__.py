"""Ports: what the services need from the outside world, as Protocols (they import the domain only).

Adapters in :mod:`whatrack.adapters` implement them for AWS; the unit tier uses in-memory fakes,
and one contract suite runs against both so their conditional semantics cannot drift. Every
adapter raises :class:`whatrack.domain.errors.TransientError` when its backend is unavailable.

Writes are conditional and idempotent: methods returning ``bool`` answer whether this call
changed anything (``False`` = already applied, or refused by the rule it encodes).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from whatrack.ports.media import MediaFiles, MediaJobQueue, MediaSource, MediaStateStore
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

_MODULE_OF = {
    "AdminCredentials": "accounts",
    "AlertNotifier": "operations",
    "ArchiveStore": "webhooks",
    "AuditLog": "inbox",
    "ChangePublisher": "webhooks",
    "ConnectionDirectory": "webhooks",
    "ConnectionRepository": "accounts",
    "ContactSyncStore": "inbox",
    "ConversationRepository": "inbox",
    "GraphApi": "accounts",
    "HistorySyncStore": "accounts",
    "HistoryThreadStore": "inbox",
    "InboxReader": "reads",
    "LeadRepository": "inbox",
    "MediaFiles": "media",
    "MediaJobQueue": "media",
    "MediaSource": "media",
    "MediaStateStore": "media",
    "MessageRepository": "inbox",
    "MetricsRecorder": "operations",
    "NoMetrics": "operations",
    "OrganizationRepository": "accounts",
    "ReplayJobQueue": "webhooks",
    "TicketRepository": "inbox",
    "TokenVault": "accounts",
    "WebhookLog": "webhooks",
    "WebhookSecrets": "webhooks",
}


def __getattr__(name: str) -> Any:
    """Load a port's module when the port is first asked for: a function imports only the ports it uses
    (ingest's cold start does not pay for the inbox's)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'whatrack.ports' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"whatrack.ports.{module}"), name)
    globals()[name] = value
    return value


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
    "MediaFiles",
    "MediaJobQueue",
    "MediaSource",
    "MediaStateStore",
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
