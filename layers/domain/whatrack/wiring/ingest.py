"""``webhook_ingest``: verify, archive, log and route Meta's webhooks."""

from __future__ import annotations

from whatrack.adapters.archive import S3ArchiveStore
from whatrack.adapters.dynamo.directory import DynamoConnectionDirectory
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.secrets import SecretsManagerWebhookSecrets
from whatrack.config import IngestSettings
from whatrack.services.ingest import IngestService
from whatrack.wiring.shared import bind, once, publisher


@once
def settings() -> IngestSettings:
    return IngestSettings.load()


@once
def service() -> IngestService:
    config = settings()
    bind(config)
    return IngestService(
        archive=S3ArchiveStore(config.archive_bucket_name),
        publisher=publisher(config),
        directory=DynamoConnectionDirectory(),
        webhook_log=DynamoWebhookLog(),
        secrets=SecretsManagerWebhookSecrets(config.meta_secret_arn),
        max_body_bytes=config.max_body_bytes,
        inline_change_limit_bytes=config.inline_change_limit_bytes,
    )
