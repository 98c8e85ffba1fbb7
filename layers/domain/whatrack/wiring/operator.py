"""The operator scripts' services (``make replay``): not a function, the same wiring rules."""

from __future__ import annotations

from whatrack.adapters.dynamo.audit import DynamoAuditLog
from whatrack.adapters.dynamo.connections import DynamoConnectionRepository
from whatrack.adapters.dynamo.history_sync import DynamoHistorySync
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.queues import SqsReplayJobs
from whatrack.config import ArchiveReplaySettings
from whatrack.services.archive_replay import ArchiveReplay
from whatrack.services.replay import ReplayScheduler
from whatrack.services.retry import ChunkRetry
from whatrack.wiring.shared import bind, publisher


def archive_replay() -> ArchiveReplay:
    """Re-delivery from the archive (``scripts/replay.py``): built afresh for each run of the tool."""
    config = ArchiveReplaySettings.load()
    bind(config)
    connections = DynamoConnectionRepository()
    log = DynamoWebhookLog()
    audit = DynamoAuditLog()
    changes = publisher(config)
    retry = ChunkRetry(
        connections=connections,
        log=log,
        publisher=changes,
        sync=DynamoHistorySync(),
        audit=audit,
        replays=ReplayScheduler(log, SqsReplayJobs(config.replay_queue_url)),
    )
    return ArchiveReplay(log=log, connections=connections, publisher=changes, audit=audit, retry=retry)
