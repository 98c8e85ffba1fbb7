"""The queue consumers (``history_chunk``, ``state_sync``, ``echo``, ``live_message``): one change
consumer with every field's processor and its storage ports."""

from __future__ import annotations

from whatrack.adapters.archive import S3ArchiveStore
from whatrack.adapters.dynamo.audit import DynamoAuditLog
from whatrack.adapters.dynamo.connections import DynamoConnectionRepository, DynamoInboxChanges
from whatrack.adapters.dynamo.contacts import DynamoContactSync
from whatrack.adapters.dynamo.conversations import DynamoConversationRepository
from whatrack.adapters.dynamo.history_sync import DynamoHistorySync
from whatrack.adapters.dynamo.history_threads import DynamoHistoryThreads
from whatrack.adapters.dynamo.leads import DynamoLeadRepository
from whatrack.adapters.dynamo.messages import DynamoMessageRepository
from whatrack.adapters.dynamo.replies import DynamoReplyStore
from whatrack.adapters.dynamo.tickets import DynamoTicketRepository
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.metrics import PowertoolsMetrics
from whatrack.adapters.queues import SqsMediaJobs
from whatrack.config import ConsumerSettings
from whatrack.domain.invocation import InvocationClock
from whatrack.services.consumer import ChangeConsumer
from whatrack.services.processors.base import InboxPorts
from whatrack.services.processors.registry import build_registry
from whatrack.wiring.shared import bind, once


@once
def settings() -> ConsumerSettings:
    return ConsumerSettings.load()


@once
def invocation() -> InvocationClock:
    """The time left in the invocation being served (started by the entrypoint with its context)."""
    return InvocationClock()


def inbox_ports(metrics: PowertoolsMetrics, media_queue_url: str, *, workers: int = 1) -> InboxPorts:
    """The consumers' storage ports on DynamoDB (tables bound by the caller; ``workers``: parallel
    requests within a history chunk)."""
    return InboxPorts(
        connections=DynamoConnectionRepository(),
        sync=DynamoHistorySync(),
        leads=DynamoLeadRepository(),
        conversations=DynamoConversationRepository(),
        messages=DynamoMessageRepository(),
        tickets=DynamoTicketRepository(),
        audit=DynamoAuditLog(),
        contacts=DynamoContactSync(),
        threads=DynamoHistoryThreads(workers=workers),
        media_jobs=SqsMediaJobs(media_queue_url),
        replies=DynamoReplyStore(),
        metrics=metrics,
    )


@once
def consumer() -> ChangeConsumer:
    config = settings()
    bind(config)
    metrics = PowertoolsMetrics()
    registry = build_registry(
        inbox_ports(metrics, config.media_queue_url, workers=config.history_import_workers),
        remaining_ms=invocation().remaining_ms,
    )
    return ChangeConsumer(
        S3ArchiveStore(config.archive_bucket_name),
        registry.processors,
        DynamoWebhookLog(),
        dead_letter_hooks=registry.dead_letter_hooks,
        metrics=metrics,
        changes=DynamoInboxChanges(),
    )
