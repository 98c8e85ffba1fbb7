"""Composition root: builds each function's dependencies lazily, once per execution environment.

Handlers call these getters; tests reset them with :func:`reset` (autouse fixture) or call the
services directly with fakes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from whatrack.adapters import aws
from whatrack.adapters.archive import S3ArchiveStore
from whatrack.adapters.dynamo import client as dynamo_client
from whatrack.adapters.dynamo.audit import DynamoAuditLog
from whatrack.adapters.dynamo.connections import DynamoConnectionDirectory, DynamoConnectionRepository
from whatrack.adapters.dynamo.contacts import DynamoContactSync
from whatrack.adapters.dynamo.conversations import DynamoConversationRepository
from whatrack.adapters.dynamo.history_sync import DynamoHistorySync
from whatrack.adapters.dynamo.history_threads import DynamoHistoryThreads
from whatrack.adapters.dynamo.leads import DynamoLeadRepository
from whatrack.adapters.dynamo.messages import DynamoMessageRepository
from whatrack.adapters.dynamo.organizations import DynamoOrganizationRepository
from whatrack.adapters.dynamo.reader import DynamoReader
from whatrack.adapters.dynamo.tables import bind_tables
from whatrack.adapters.dynamo.tickets import DynamoTicketRepository
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.graph import HttpGraphApi
from whatrack.adapters.metrics import PowertoolsMetrics
from whatrack.adapters.notifications import SnsAlertNotifier
from whatrack.adapters.queues import SqsChangePublisher, SqsReplayJobs
from whatrack.adapters.secrets import (
    SecretsManagerAdminCredentials,
    SecretsManagerTokenVault,
    SecretsManagerWebhookSecrets,
)
from whatrack.config import (
    ArchiveReplaySettings,
    ConsumerSettings,
    GraphMixin,
    IngestSettings,
    QueuesMixin,
    ReconcilerSettings,
    ReplaySettings,
    StatusApiSettings,
    TablesMixin,
    WatchdogSettings,
)
from whatrack.domain.changes import QueueName
from whatrack.domain.invocation import InvocationClock
from whatrack.services.archive_replay import ArchiveReplay
from whatrack.services.connections import ConnectionService
from whatrack.services.consumer import ChangeConsumer
from whatrack.services.embedded_signup import EmbeddedSignup
from whatrack.services.ingest import IngestService
from whatrack.services.organizations import OrganizationService
from whatrack.services.processors.base import InboxPorts
from whatrack.services.processors.registry import build_registry
from whatrack.services.queries import InboxQueries
from whatrack.services.reconciler import Reconciler
from whatrack.services.replay import UnmatchedReplayer
from whatrack.services.retry import ChunkRetry
from whatrack.services.sync_requests import SyncRequester
from whatrack.services.watchdog import Watchdog


@functools.cache
def ingest_settings() -> IngestSettings:
    return IngestSettings.load()


@functools.cache
def status_api_settings() -> StatusApiSettings:
    return StatusApiSettings.load()


@functools.cache
def consumer_settings() -> ConsumerSettings:
    return ConsumerSettings.load()


@functools.cache
def watchdog_settings() -> WatchdogSettings:
    return WatchdogSettings.load()


@functools.cache
def replay_settings() -> ReplaySettings:
    return ReplaySettings.load()


@functools.cache
def reconciler_settings() -> ReconcilerSettings:
    return ReconcilerSettings.load()


def _bind(settings: TablesMixin) -> None:
    """Point every item model at this deployment's tables (fresh shared client)."""
    dynamo_client.reset()
    bind_tables(accounts=settings.accounts_table_name, inbox=settings.inbox_table_name, log=settings.log_table_name)


def _publisher(settings: QueuesMixin) -> SqsChangePublisher:
    return SqsChangePublisher(
        {
            QueueName.HISTORY: settings.history_queue_url,
            QueueName.CONTACTS: settings.contacts_queue_url,
            QueueName.ECHOES: settings.echoes_queue_url,
            QueueName.LIVE_MESSAGES: settings.live_messages_queue_url,
            QueueName.ACCOUNT_UPDATES: settings.account_updates_queue_url,
        }
    )


@functools.cache
def ingest_service() -> IngestService:
    settings = ingest_settings()
    _bind(settings)
    return IngestService(
        archive=S3ArchiveStore(settings.archive_bucket_name),
        publisher=_publisher(settings),
        directory=DynamoConnectionDirectory(),
        webhook_log=DynamoWebhookLog(),
        secrets=SecretsManagerWebhookSecrets(settings.meta_secret_arn),
        max_body_bytes=settings.max_body_bytes,
        inline_change_limit_bytes=settings.inline_change_limit_bytes,
    )


def _graph(settings: GraphMixin) -> HttpGraphApi:
    return HttpGraphApi(
        base_url=settings.graph_api_base_url,
        version=settings.graph_api_version,
        app_id=settings.meta_app_id,
        app_secret=SecretsManagerWebhookSecrets(settings.meta_secret_arn).app_secret,
        timeout_seconds=settings.graph_timeout_seconds,
    )


def _connection_service(settings: GraphMixin, replayer: UnmatchedReplayer | None = None) -> ConnectionService:
    """Connecting, reconnecting and checking numbers, with the automatic sync request."""
    connections = DynamoConnectionRepository()
    vault = SecretsManagerTokenVault(settings.access_token_secret_prefix)
    graph = _graph(settings)
    requester = SyncRequester(
        connections=connections, sync=DynamoHistorySync(), vault=vault, graph=graph, audit=DynamoAuditLog()
    )
    return ConnectionService(
        connections,
        vault,
        replayer,
        graph=graph,
        audit=DynamoAuditLog(),
        requester=requester,
    )


@dataclass(frozen=True)
class StatusApi:
    organizations: OrganizationService
    connections: ConnectionService
    embedded_signup: EmbeddedSignup
    sync_requests: SyncRequester
    retry: ChunkRetry
    queries: InboxQueries


@functools.cache
def status_api() -> StatusApi:
    settings = status_api_settings()
    _bind(settings)
    publisher = _publisher(settings)
    replayer = UnmatchedReplayer(DynamoWebhookLog(), publisher, SqsReplayJobs(settings.replay_queue_url))
    connections = _connection_service(settings, replayer)
    repository = DynamoConnectionRepository()
    return StatusApi(
        organizations=OrganizationService(
            DynamoOrganizationRepository(), SecretsManagerAdminCredentials(settings.admin_secret_arn)
        ),
        connections=connections,
        embedded_signup=EmbeddedSignup(_graph(settings), connections),
        sync_requests=SyncRequester(
            connections=repository,
            sync=DynamoHistorySync(),
            vault=SecretsManagerTokenVault(settings.access_token_secret_prefix),
            graph=_graph(settings),
            audit=DynamoAuditLog(),
        ),
        retry=ChunkRetry(
            connections=repository,
            log=DynamoWebhookLog(),
            publisher=publisher,
            sync=DynamoHistorySync(),
            audit=DynamoAuditLog(),
            replayer=replayer,
        ),
        queries=InboxQueries(DynamoReader(), repository, DynamoTicketRepository()),
    )


@functools.cache
def watchdog() -> Watchdog:
    settings = watchdog_settings()
    _bind(settings)
    return Watchdog(
        connections=DynamoConnectionRepository(),
        sync=DynamoHistorySync(),
        audit=DynamoAuditLog(),
        notifier=SnsAlertNotifier(settings.alerts_topic_arn),
        metrics=PowertoolsMetrics(),
        numbers=_connection_service(settings),
        stall_after=timedelta(seconds=settings.history_stall_after_seconds),
    )


@functools.cache
def unmatched_replayer() -> UnmatchedReplayer:
    settings = replay_settings()
    _bind(settings)
    return UnmatchedReplayer(
        DynamoWebhookLog(),
        _publisher(settings),
        SqsReplayJobs(settings.replay_queue_url),
        DynamoConnectionRepository(),
        page_size=settings.replay_page_size,
        pages_per_job=settings.replay_pages_per_job,
        metrics=PowertoolsMetrics(),
    )


@functools.cache
def reconciler() -> Reconciler:
    settings = reconciler_settings()
    _bind(settings)
    return Reconciler(
        log=DynamoWebhookLog(),
        directory=DynamoConnectionDirectory(),
        publisher=_publisher(settings),
        audit=DynamoAuditLog(),
        metrics=PowertoolsMetrics(),
        stuck_after=timedelta(seconds=settings.reconcile_after_seconds),
        page_size=settings.reconcile_page_size,
        max_pages=settings.reconcile_max_pages,
        max_redrives=settings.reconcile_max_redrives,
    )


def archive_replay() -> ArchiveReplay:
    """The replay tool's service (``scripts/replay.py``, not a function)."""
    settings = ArchiveReplaySettings.load()
    _bind(settings)
    publisher = _publisher(settings)
    retry = ChunkRetry(
        connections=DynamoConnectionRepository(),
        log=DynamoWebhookLog(),
        publisher=publisher,
        sync=DynamoHistorySync(),
        audit=DynamoAuditLog(),
    )
    return ArchiveReplay(
        log=DynamoWebhookLog(),
        connections=DynamoConnectionRepository(),
        publisher=publisher,
        audit=DynamoAuditLog(),
        retry=retry,
    )


def inbox_ports(*, workers: int = 1) -> InboxPorts:
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
        metrics=PowertoolsMetrics(),
    )


@functools.cache
def invocation() -> InvocationClock:
    """The time left in the invocation being served (started by the entrypoint with its context)."""
    return InvocationClock()


@functools.cache
def change_consumer() -> ChangeConsumer:
    settings = consumer_settings()
    _bind(settings)
    registry = build_registry(
        inbox_ports(workers=settings.history_import_workers), remaining_ms=invocation().remaining_ms
    )
    return ChangeConsumer(
        S3ArchiveStore(settings.archive_bucket_name),
        registry.processors,
        DynamoWebhookLog(),
        dead_letter_hooks=registry.dead_letter_hooks,
        metrics=PowertoolsMetrics(),
    )


def reset() -> None:
    """Forget settings, services and AWS clients (tests; local stack restarts)."""
    for getter in (
        ingest_settings,
        status_api_settings,
        consumer_settings,
        watchdog_settings,
        replay_settings,
        reconciler_settings,
        unmatched_replayer,
        reconciler,
        ingest_service,
        status_api,
        change_consumer,
        watchdog,
        invocation,
    ):
        getter.cache_clear()
    dynamo_client.reset()
    aws.reset()
