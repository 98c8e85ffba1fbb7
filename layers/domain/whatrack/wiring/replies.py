"""``reply_send``: the outbox's function, each accepted reply sent to Meta once."""

from __future__ import annotations

from datetime import timedelta

from whatrack.adapters.dynamo.connections import DynamoConnectionRepository, DynamoInboxChanges
from whatrack.adapters.dynamo.pacing import DynamoSendPacer
from whatrack.adapters.dynamo.replies import DynamoReplyStore
from whatrack.adapters.metrics import PowertoolsMetrics
from whatrack.adapters.queues import SqsRetryDelay
from whatrack.adapters.secrets import SecretsManagerTokenVault, SecretsManagerWebhookSecrets
from whatrack.config import ReplySettings
from whatrack.domain.pacing import Pace
from whatrack.services.replies import ReplySender
from whatrack.wiring.shared import bind, graph, once


@once
def settings() -> ReplySettings:
    return ReplySettings.load()


@once
def sender() -> ReplySender:
    config = settings()
    bind(config)
    return ReplySender(
        replies=DynamoReplyStore(),
        connections=DynamoConnectionRepository(),
        tokens=SecretsManagerTokenVault(config.access_token_secret_prefix),
        graph=graph(config, SecretsManagerWebhookSecrets(config.meta_secret_arn).app_secret),
        metrics=PowertoolsMetrics(),
        lease=timedelta(seconds=config.reply_lease_seconds),
        pacer=DynamoSendPacer(Pace(config.reply_sends_per_second, config.reply_pace_max_wait_seconds)),
        changes=DynamoInboxChanges(),
    )


@once
def retry_delay() -> SqsRetryDelay:
    return SqsRetryDelay()
