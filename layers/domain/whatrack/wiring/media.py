"""``media_fetch``: every media file Meta announces, downloaded into our bucket before Meta forgets it."""

from __future__ import annotations

from datetime import timedelta

from whatrack.adapters.dynamo.connections import DynamoConnectionRepository
from whatrack.adapters.dynamo.media import DynamoMediaStateStore
from whatrack.adapters.media_files import S3MediaFiles
from whatrack.adapters.media_source import HttpMediaSource
from whatrack.adapters.metrics import PowertoolsMetrics
from whatrack.adapters.secrets import SecretsManagerTokenVault, SecretsManagerWebhookSecrets
from whatrack.config import MediaSettings
from whatrack.services.media import AllowedHosts, MediaFetcher
from whatrack.wiring.shared import bind, graph, once


@once
def settings() -> MediaSettings:
    return MediaSettings.load()


@once
def fetcher() -> MediaFetcher:
    config = settings()
    bind(config)
    secrets = SecretsManagerWebhookSecrets(config.meta_secret_arn)
    return MediaFetcher(
        store=DynamoMediaStateStore(),
        source=HttpMediaSource(graph(config, secrets.app_secret)),
        files=S3MediaFiles(config.media_bucket_name),
        connections=DynamoConnectionRepository(),
        tokens=SecretsManagerTokenVault(config.access_token_secret_prefix),
        hosts=AllowedHosts.parse(config.media_download_hosts),
        max_bytes=config.media_max_bytes,
        lease=timedelta(seconds=config.media_lease_seconds),
        metrics=PowertoolsMetrics(),
    )
