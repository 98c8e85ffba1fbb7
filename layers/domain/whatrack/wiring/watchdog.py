"""``watchdog``: stall alerts, the daily check of numbers with Meta, and the media sweeps."""

from __future__ import annotations

from datetime import timedelta

from whatrack.adapters.dynamo.audit import DynamoAuditLog
from whatrack.adapters.dynamo.connections import DynamoConnectionRepository
from whatrack.adapters.dynamo.history_sync import DynamoHistorySync
from whatrack.adapters.dynamo.media import DynamoMediaStateStore
from whatrack.adapters.dynamo.replies import DynamoReplyStore
from whatrack.adapters.metrics import PowertoolsMetrics
from whatrack.adapters.notifications import SnsAlertNotifier
from whatrack.adapters.queues import SqsMediaJobs, SqsReplyOutbox
from whatrack.adapters.secrets import SecretsManagerTokenVault, SecretsManagerWebhookSecrets
from whatrack.config import WatchdogSettings
from whatrack.services.media_sweep import MediaSweep
from whatrack.services.number_check import NumberChecker
from whatrack.services.replies import ReplySweep
from whatrack.services.watchdog import Watchdog
from whatrack.wiring.shared import bind, graph, once


@once
def settings() -> WatchdogSettings:
    return WatchdogSettings.load()


@once
def watchdog() -> Watchdog:
    config = settings()
    bind(config)
    connections = DynamoConnectionRepository()
    audit = DynamoAuditLog()
    meta = graph(config, SecretsManagerWebhookSecrets(config.meta_secret_arn).app_secret)
    return Watchdog(
        connections=connections,
        sync=DynamoHistorySync(),
        audit=audit,
        notifier=SnsAlertNotifier(config.alerts_topic_arn),
        metrics=PowertoolsMetrics(),
        numbers=NumberChecker(connections, SecretsManagerTokenVault(config.access_token_secret_prefix), meta, audit),
        replies=ReplySweep(
            DynamoReplyStore(),
            SqsReplyOutbox(config.replies_queue_url),
            after=timedelta(seconds=config.reply_sweep_after_seconds),
        ),
        media=MediaSweep(
            DynamoMediaStateStore(),
            SqsMediaJobs(config.media_queue_url),
            sweep_after=timedelta(seconds=config.media_sweep_after_seconds),
        ),
        stall_after=timedelta(seconds=config.history_stall_after_seconds),
    )
