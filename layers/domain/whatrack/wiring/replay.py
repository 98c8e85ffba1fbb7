"""``unmatched_replay``: replay jobs route the changes kept for a number once it is connected."""

from __future__ import annotations

from whatrack.adapters.dynamo.connections import DynamoConnectionRepository
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.metrics import PowertoolsMetrics
from whatrack.adapters.queues import SqsReplayJobs
from whatrack.config import ReplaySettings
from whatrack.services.replay import KeptChanges, UnmatchedReplayer
from whatrack.wiring.shared import bind, once, publisher


@once
def settings() -> ReplaySettings:
    return ReplaySettings.load()


@once
def replayer() -> UnmatchedReplayer:
    config = settings()
    bind(config)
    log = DynamoWebhookLog()
    return UnmatchedReplayer(
        log,
        KeptChanges(log, publisher(config)),
        SqsReplayJobs(config.replay_queue_url),
        DynamoConnectionRepository(),
        PowertoolsMetrics(),
        page_size=config.replay_page_size,
        pages_per_job=config.replay_pages_per_job,
    )
