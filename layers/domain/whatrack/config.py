"""Typed settings, one model per function, composed from small mixins (pydantic-settings).

Each field is read from the environment variable of the same name, upper-cased. Settings are
loaded once per execution environment by the function's :mod:`whatrack.wiring` module (never at import time) and
passed as plain values to the code that needs them: services and adapters never read them. A
template test asserts that every required field below is set in the function's ``Environment``
in ``template.yaml``.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from whatrack.domain.errors import ConfigurationError

NonEmpty = Annotated[str, Field(min_length=1)]

MAX_WEBHOOK_BODY_BYTES = 10 * 1024 * 1024


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    @classmethod
    def load(cls) -> Self:
        """Read the settings from the environment; a missing or invalid variable is a configuration error."""
        try:
            return cls()
        except ValidationError as exc:
            names = ", ".join(sorted({str(e["loc"][0]).upper() for e in exc.errors()}))
            raise ConfigurationError(f"{cls.__name__}: invalid or missing {names}") from exc

    @classmethod
    def required_env(cls) -> set[str]:
        """Names of the environment variables that must be set (no default)."""
        return {name.upper() for name, f in cls.model_fields.items() if f.is_required()}


class TablesMixin(_Settings):
    accounts_table_name: NonEmpty
    inbox_table_name: NonEmpty
    log_table_name: NonEmpty


class ArchiveMixin(_Settings):
    archive_bucket_name: NonEmpty


class QueuesMixin(_Settings):
    history_queue_url: NonEmpty
    contacts_queue_url: NonEmpty
    echoes_queue_url: NonEmpty
    live_messages_queue_url: NonEmpty
    account_updates_queue_url: NonEmpty


class ReplayQueueMixin(_Settings):
    """The queue of replay jobs (changes kept for a number, replayed once it is connected)."""

    replay_queue_url: NonEmpty


class IngestSettings(TablesMixin, ArchiveMixin, QueuesMixin):
    """``webhook_ingest``."""

    meta_secret_arn: NonEmpty
    max_body_bytes: int = Field(default=MAX_WEBHOOK_BODY_BYTES, gt=0)
    # Changes whose queue message would exceed this travel by reference to the archived body.
    # SQS accepts 256 KiB (1 MiB since 2025); we keep headroom for attributes and envelope.
    inline_change_limit_bytes: int = Field(default=200_000, gt=1024, le=250_000)


class GraphMixin(_Settings):
    """Meta's Graph API; the app secret (for the code exchange) lives in the webhook secret."""

    graph_api_base_url: NonEmpty = "https://graph.facebook.com"
    graph_api_version: Annotated[str, Field(pattern=r"^v\d+\.0$")] = "v24.0"
    meta_app_id: str = ""
    meta_secret_arn: NonEmpty
    access_token_secret_prefix: NonEmpty
    graph_timeout_seconds: float = Field(default=5.0, gt=0, le=20)


class StatusApiSettings(TablesMixin, QueuesMixin, ReplayQueueMixin, GraphMixin):
    """``status_api``."""

    admin_secret_arn: NonEmpty
    history_stall_after_seconds: int = Field(default=1800, gt=0)


class WatchdogSettings(TablesMixin, GraphMixin):
    """``watchdog``: the scheduled round over every connection."""

    history_stall_after_seconds: int = Field(default=1800, gt=0)
    alerts_topic_arn: NonEmpty


class DeadLettersMixin(_Settings):
    # records from these queues (comma-separated ARNs; the same value in every consumer) are dead
    # letters: recorded, never re-processed where they land (a retry goes through the archive:
    # make replay / make redrive)
    dead_letter_queue_arns: str = ""

    def is_dead_letter_queue(self, arn: str | None) -> bool:
        return bool(arn) and arn in {a.strip() for a in self.dead_letter_queue_arns.split(",") if a.strip()}


class ConsumerSettings(TablesMixin, ArchiveMixin, DeadLettersMixin):
    """The SQS consumers: ``history_chunk``, ``state_sync``, ``echo``, ``live_message``."""

    # parallel DynamoDB requests within a history chunk (its independent batched reads and lead
    # transactions); 1 where the emulation cannot take concurrent requests (moto does not lock)
    history_import_workers: int = Field(default=1, ge=1, le=16)


class ReplaySettings(TablesMixin, QueuesMixin, ReplayQueueMixin, DeadLettersMixin):
    """``unmatched_replay``: one job routes up to ``pages_per_job`` pages, then enqueues the rest."""

    replay_page_size: int = Field(default=100, gt=0, le=1000)
    replay_pages_per_job: int = Field(default=10, gt=0, le=100)


class ReconcilerSettings(TablesMixin, QueuesMixin):
    """``reconciler``: the scheduled sweep of changes stuck before an outcome (also ``make reconcile``)."""

    # a change not final this long after its last move is stuck; above the longest retry of a queue
    # (history: 5 receives x 30 min visibility) it would race SQS's own retries
    reconcile_after_seconds: int = Field(default=3 * 3600, ge=0)
    reconcile_page_size: int = Field(default=100, gt=0, le=1000)
    reconcile_max_pages: int = Field(default=20, gt=0, le=1000)
    reconcile_max_redrives: int = Field(default=5, gt=0, le=100)


class ArchiveReplaySettings(TablesMixin, QueuesMixin, ReplayQueueMixin):
    """The replay tool (``make replay``, run by an operator against a stack)."""
