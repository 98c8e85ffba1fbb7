"""``status_api``: the dashboard's API. Each collaborator is built once and shared by the use cases
that need it (one Graph client, one audit log, one secrets cache)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from whatrack.adapters.dynamo.audit import DynamoAuditLog
from whatrack.adapters.dynamo.connections import DynamoConnectionRepository, DynamoInboxChanges
from whatrack.adapters.dynamo.conversations import DynamoConversationRepository
from whatrack.adapters.dynamo.history_sync import DynamoHistorySync
from whatrack.adapters.dynamo.leads import DynamoLeadRepository
from whatrack.adapters.dynamo.media import DynamoMediaStateStore
from whatrack.adapters.dynamo.messages import DynamoMessageRepository
from whatrack.adapters.dynamo.organizations import DynamoOrganizationRepository
from whatrack.adapters.dynamo.reader import DynamoReader
from whatrack.adapters.dynamo.replies import DynamoReplyStore
from whatrack.adapters.dynamo.tickets import DynamoTicketRepository
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.parameters import SsmParameterText
from whatrack.adapters.queues import SqsMediaJobs, SqsReplayJobs, SqsReplyOutbox
from whatrack.adapters.secrets import (
    SecretsManagerAdminCredentials,
    SecretsManagerMediaUrlKey,
    SecretsManagerTokenVault,
    SecretsManagerWebhookSecrets,
)
from whatrack.config import StatusApiSettings
from whatrack.services.connections import ConnectionService
from whatrack.services.embedded_signup import EmbeddedSignup
from whatrack.services.media_links import MediaLinks
from whatrack.services.media_retry import MediaRetry
from whatrack.services.new_conversations import NewConversations
from whatrack.services.number_check import NumberChecker
from whatrack.services.organizations import OrganizationService
from whatrack.services.queries import InboxQueries
from whatrack.services.replay import ReplayScheduler
from whatrack.services.replies import ReplyDesk
from whatrack.services.retry import ChunkRetry
from whatrack.services.sync_requests import SyncRequester
from whatrack.services.templates import TemplateCatalog
from whatrack.wiring.shared import bind, graph, once, publisher


@dataclass(frozen=True)
class StatusApi:
    organizations: OrganizationService
    connections: ConnectionService
    embedded_signup: EmbeddedSignup
    sync_requests: SyncRequester
    retry: ChunkRetry
    queries: InboxQueries
    media_retry: MediaRetry
    media_links: MediaLinks
    new_conversations: NewConversations
    templates: TemplateCatalog
    replies: ReplyDesk


@once
def settings() -> StatusApiSettings:
    return StatusApiSettings.load()


def media_url_base(config: StatusApiSettings) -> str | Callable[[], str]:
    """``MEDIA_URL_BASE`` when set (the local stack's front, an alias); else the dashboard
    distribution's, read from its parameter the first time a file is shown (D-44)."""
    if config.media_url_base or not config.media_url_base_parameter:
        return config.media_url_base
    return SsmParameterText(config.media_url_base_parameter).value


@once
def api() -> StatusApi:
    config = settings()
    bind(config)
    connections = DynamoConnectionRepository()
    log = DynamoWebhookLog()
    audit = DynamoAuditLog()
    sync = DynamoHistorySync()
    vault = SecretsManagerTokenVault(config.access_token_secret_prefix)
    meta = graph(config, SecretsManagerWebhookSecrets(config.meta_secret_arn).app_secret)
    replays = ReplayScheduler(log, SqsReplayJobs(config.replay_queue_url))
    reader, tickets, changes = DynamoReader(), DynamoTicketRepository(), DynamoInboxChanges()
    templates = TemplateCatalog(connections, vault, meta)
    requester = SyncRequester(connections=connections, sync=sync, vault=vault, graph=meta, audit=audit)
    connecting = ConnectionService(
        connections,
        vault,
        replays=replays,
        graph=meta,
        audit=audit,
        requester=requester,
        numbers=NumberChecker(connections, vault, meta, audit),
    )
    return StatusApi(
        organizations=OrganizationService(
            DynamoOrganizationRepository(), SecretsManagerAdminCredentials(config.admin_secret_arn)
        ),
        connections=connecting,
        embedded_signup=EmbeddedSignup(meta, connecting),
        sync_requests=requester,
        retry=ChunkRetry(
            connections=connections, log=log, publisher=publisher(config), sync=sync, audit=audit, replays=replays
        ),
        queries=InboxQueries(reader, connections, tickets, changes=changes),
        media_retry=MediaRetry(connections, DynamoMediaStateStore(), SqsMediaJobs(config.media_queue_url)),
        media_links=MediaLinks(
            base=media_url_base(config),
            key=SecretsManagerMediaUrlKey(config.media_url_secret_arn).key,
            ttl=timedelta(seconds=config.media_url_ttl_seconds),
        ),
        templates=templates,
        replies=ReplyDesk(
            connections=connections,
            reader=reader,
            messages=DynamoMessageRepository(),
            tickets=tickets,
            replies=DynamoReplyStore(),
            outbox=SqsReplyOutbox(config.replies_queue_url),
            templates=templates,
        ),
        new_conversations=NewConversations(
            connections=connections,
            leads=DynamoLeadRepository(),
            conversations=DynamoConversationRepository(),
            tickets=tickets,
            reader=reader,
            changes=changes,
        ),
    )
