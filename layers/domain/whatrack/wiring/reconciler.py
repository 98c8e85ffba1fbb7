"""``reconciler``: re-drives changes stuck on their way, routes kept ones whose number is connected."""

from __future__ import annotations

from datetime import timedelta

from whatrack.adapters.dynamo.audit import DynamoAuditLog
from whatrack.adapters.dynamo.directory import DynamoConnectionDirectory
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.metrics import PowertoolsMetrics
from whatrack.config import ReconcilerSettings
from whatrack.services.reconciler import Reconciler
from whatrack.wiring.shared import bind, once, publisher


@once
def settings() -> ReconcilerSettings:
    return ReconcilerSettings.load()


@once
def reconciler() -> Reconciler:
    config = settings()
    bind(config)
    return Reconciler(
        log=DynamoWebhookLog(),
        directory=DynamoConnectionDirectory(),
        publisher=publisher(config),
        audit=DynamoAuditLog(),
        metrics=PowertoolsMetrics(),
        stuck_after=timedelta(seconds=config.reconcile_after_seconds),
        page_size=config.reconcile_page_size,
        max_pages=config.reconcile_max_pages,
        max_redrives=config.reconcile_max_redrives,
    )
