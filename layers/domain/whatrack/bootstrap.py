"""Composition root: builds each function's dependencies lazily, once per execution environment.

Handlers call these getters; tests reset them with :func:`reset` (autouse fixture) or call the
services directly with fakes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from whatrack.adapters import aws
from whatrack.adapters.archive import S3ArchiveStore
from whatrack.adapters.dynamo import client as dynamo_client
from whatrack.adapters.dynamo.audit import DynamoAuditLog
from whatrack.adapters.dynamo.connections import DynamoConnectionDirectory, DynamoConnectionRepository
from whatrack.adapters.dynamo.conversations import DynamoConversationRepository
from whatrack.adapters.dynamo.history_sync import DynamoHistorySync
from whatrack.adapters.dynamo.leads import DynamoLeadRepository
from whatrack.adapters.dynamo.messages import DynamoMessageRepository
from whatrack.adapters.dynamo.organizations import DynamoOrganizationRepository
from whatrack.adapters.dynamo.reader import DynamoReader
from whatrack.adapters.dynamo.tables import bind_tables
from whatrack.adapters.dynamo.tickets import DynamoTicketRepository
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.queues import SqsChangePublisher
from whatrack.adapters.secrets import (
    SecretsManagerAdminCredentials,
    SecretsManagerTokenVault,
    SecretsManagerWebhookSecrets,
)
from whatrack.config import ConsumerSettings, IngestSettings, QueuesMixin, StatusApiSettings, TablesMixin
from whatrack.domain.changes import QueueName
from whatrack.services.connections import ConnectionService
from whatrack.services.consumer import ChangeConsumer
from whatrack.services.ingest import IngestService
from whatrack.services.organizations import OrganizationService
from whatrack.services.processors.base import InboxPorts
from whatrack.services.processors.registry import build_registry
from whatrack.services.queries import InboxQueries
from whatrack.services.replay import UnmatchedReplayer


@functools.cache
def ingest_settings() -> IngestSettings:
    return IngestSettings.load()


@functools.cache
def status_api_settings() -> StatusApiSettings:
    return StatusApiSettings.load()


@functools.cache
def consumer_settings() -> ConsumerSettings:
    return ConsumerSettings.load()


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


@dataclass(frozen=True)
class StatusApi:
    organizations: OrganizationService
    connections: ConnectionService
    queries: InboxQueries


@functools.cache
def status_api() -> StatusApi:
    settings = status_api_settings()
    _bind(settings)
    connections = DynamoConnectionRepository()
    return StatusApi(
        organizations=OrganizationService(
            DynamoOrganizationRepository(), SecretsManagerAdminCredentials(settings.admin_secret_arn)
        ),
        connections=ConnectionService(
            connections,
            SecretsManagerTokenVault(settings.access_token_secret_prefix),
            UnmatchedReplayer(DynamoWebhookLog(), _publisher(settings)),
        ),
        queries=InboxQueries(DynamoReader(), connections, DynamoTicketRepository()),
    )


def inbox_ports() -> InboxPorts:
    """The consumers' storage ports on DynamoDB (tables bound by the caller)."""
    return InboxPorts(
        connections=DynamoConnectionRepository(),
        sync=DynamoHistorySync(),
        leads=DynamoLeadRepository(),
        conversations=DynamoConversationRepository(),
        messages=DynamoMessageRepository(),
        tickets=DynamoTicketRepository(),
        audit=DynamoAuditLog(),
    )


@functools.cache
def change_consumer() -> ChangeConsumer:
    settings = consumer_settings()
    _bind(settings)
    registry = build_registry(inbox_ports())
    return ChangeConsumer(
        S3ArchiveStore(settings.archive_bucket_name),
        registry.processors,
        DynamoWebhookLog(),
        dead_letter_hooks=registry.dead_letter_hooks,
    )


def reset() -> None:
    """Forget settings, services and AWS clients (tests; local stack restarts)."""
    for getter in (
        ingest_settings,
        status_api_settings,
        consumer_settings,
        ingest_service,
        status_api,
        change_consumer,
    ):
        getter.cache_clear()
    dynamo_client.reset()
    aws.reset()
