"""Composition root: builds each function's dependencies lazily, once per execution environment.

Handlers call these getters; tests reset them with :func:`reset` (autouse fixture) or call the
services directly with fakes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from whatrack.adapters import aws, dynamo
from whatrack.adapters.archive import S3ArchiveStore
from whatrack.adapters.inbox_dynamo import DynamoInbox, bind_inbox
from whatrack.adapters.queues import SqsChangePublisher
from whatrack.adapters.read_dynamo import DynamoReader, bind_views
from whatrack.adapters.secrets import (
    SecretsManagerAdminCredentials,
    SecretsManagerTokenVault,
    SecretsManagerWebhookSecrets,
)
from whatrack.config import ConsumerSettings, IngestSettings, QueuesMixin, StatusApiSettings
from whatrack.connections import ConnectionService
from whatrack.consumer import ChangeConsumer
from whatrack.ingest import IngestService
from whatrack.organizations import OrganizationService
from whatrack.pipeline import ChangePipeline
from whatrack.queries import InboxQueries
from whatrack.replay import UnmatchedReplayer
from whatrack.webhooks.fields import QueueName, WebhookField


@functools.cache
def ingest_settings() -> IngestSettings:
    return IngestSettings.from_env()


@functools.cache
def status_api_settings() -> StatusApiSettings:
    return StatusApiSettings.from_env()


@functools.cache
def consumer_settings() -> ConsumerSettings:
    return ConsumerSettings.from_env()


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
    dynamo.bind(settings)
    return IngestService(
        archive=S3ArchiveStore(settings.archive_bucket_name),
        publisher=_publisher(settings),
        directory=dynamo.DynamoConnectionDirectory(),
        webhook_log=dynamo.DynamoWebhookLog(),
        secrets=SecretsManagerWebhookSecrets(settings.meta_secret_arn),
        max_body_bytes=settings.max_body_bytes,
        inline_change_limit_bytes=settings.inline_change_limit_bytes,
    )


@dataclass(frozen=True)
class StatusApi:
    organizations: OrganizationService
    connections: ConnectionService
    reader: DynamoReader
    queries: InboxQueries


@functools.cache
def status_api() -> StatusApi:
    settings = status_api_settings()
    dynamo.bind(settings)
    bind_inbox(settings)
    bind_views(settings)
    reader = DynamoReader()
    return StatusApi(
        organizations=OrganizationService(
            dynamo.DynamoOrganizationRepository(), SecretsManagerAdminCredentials(settings.admin_secret_arn)
        ),
        connections=ConnectionService(
            dynamo.DynamoConnectionRepository(),
            SecretsManagerTokenVault(settings.access_token_secret_prefix),
            UnmatchedReplayer(dynamo.DynamoWebhookLog(), _publisher(settings)),
        ),
        reader=reader,
        queries=InboxQueries(reader, DynamoInbox()),
    )


@functools.cache
def change_consumer() -> ChangeConsumer:
    settings = consumer_settings()
    dynamo.bind(settings)
    bind_inbox(settings)
    changes = ChangePipeline(
        inbox=DynamoInbox(), sync=dynamo.DynamoHistorySync(), connections=dynamo.DynamoConnectionRepository()
    )
    return ChangeConsumer(
        S3ArchiveStore(settings.archive_bucket_name),
        changes.processors(),
        dynamo.DynamoWebhookLog(),
        dead_letter_hooks={WebhookField.HISTORY: changes.history_dead_letter},
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
    aws.reset()
