"""Typed settings, one class per function, composed from small mixins.

Each field is read from the environment variable of the same name (any case; upper-case in the
template). Settings are frozen dataclasses that msgspec builds from the environment, converting
text to the field's type and checking its constraints (a few hundred microseconds, where the
settings library this replaced cost every function ~40 ms of its cold start). They are loaded once
per execution environment by the function's :mod:`whatrack.wiring` module (never at import time)
and passed as plain values to the code that needs them: services and adapters never read them. A
template test asserts that every required field below is set in the function's ``Environment`` in
``template.yaml``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Annotated, Self

import msgspec
from msgspec import Meta

from whatrack.domain.errors import ConfigurationError

NonEmpty = Annotated[str, Meta(min_length=1)]

MAX_WEBHOOK_BODY_BYTES = 10 * 1024 * 1024

_FIELD_IN_ERROR = re.compile(r"`\$\.(\w+)`|required field `(\w+)`")


def _named(exc: msgspec.ValidationError) -> str:
    """The environment variable a msgspec error is about (``$.name`` or ``required field `name```)."""
    match = _FIELD_IN_ERROR.search(str(exc))
    return "".join(match.groups("")).upper() if match else "?"


@dataclass(frozen=True, kw_only=True)
class _Settings:
    @classmethod
    def load(cls) -> Self:
        """Read the settings from the environment; a missing or invalid variable is a configuration error."""
        names = {f.name for f in dataclasses.fields(cls)}
        found = {key.lower(): value.strip() for key, value in os.environ.items() if key.lower() in names}
        missing = sorted(name for name in cls.required_env() if name.lower() not in found)
        if missing:
            raise ConfigurationError(f"{cls.__name__}: invalid or missing {', '.join(missing)}")
        try:
            return msgspec.convert(found, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigurationError(f"{cls.__name__}: invalid or missing {_named(exc)} ({exc})") from exc

    @classmethod
    def required_env(cls) -> set[str]:
        """Names of the environment variables that must be set (no default)."""
        return {
            f.name.upper()
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }


@dataclass(frozen=True, kw_only=True)
class TablesMixin(_Settings):
    accounts_table_name: NonEmpty
    inbox_table_name: NonEmpty
    log_table_name: NonEmpty


@dataclass(frozen=True, kw_only=True)
class ArchiveMixin(_Settings):
    archive_bucket_name: NonEmpty


@dataclass(frozen=True, kw_only=True)
class QueuesMixin(_Settings):
    history_queue_url: NonEmpty
    contacts_queue_url: NonEmpty
    echoes_queue_url: NonEmpty
    live_messages_queue_url: NonEmpty
    account_updates_queue_url: NonEmpty


@dataclass(frozen=True, kw_only=True)
class ReplayQueueMixin(_Settings):
    """The queue of replay jobs (changes kept for a number, replayed once it is connected)."""

    replay_queue_url: NonEmpty


@dataclass(frozen=True, kw_only=True)
class IngestSettings(TablesMixin, ArchiveMixin, QueuesMixin):
    """``webhook_ingest``."""

    meta_secret_arn: NonEmpty
    max_body_bytes: Annotated[int, Meta(gt=0)] = MAX_WEBHOOK_BODY_BYTES
    # Changes whose queue message would exceed this travel by reference to the archived body.
    # SQS accepts 256 KiB (1 MiB since 2025); we keep headroom for attributes and envelope.
    inline_change_limit_bytes: Annotated[int, Meta(gt=1024, le=250_000)] = 200_000


@dataclass(frozen=True, kw_only=True)
class GraphMixin(_Settings):
    """Meta's Graph API; the app secret (for the code exchange) lives in the webhook secret."""

    graph_api_base_url: NonEmpty = "https://graph.facebook.com"
    graph_api_version: Annotated[str, Meta(pattern=r"^v\d+\.0\Z")] = "v24.0"
    meta_app_id: str = ""
    meta_secret_arn: NonEmpty
    access_token_secret_prefix: NonEmpty
    graph_timeout_seconds: Annotated[float, Meta(gt=0, le=20)] = 5.0


@dataclass(frozen=True, kw_only=True)
class StatusApiSettings(TablesMixin, QueuesMixin, ReplayQueueMixin, GraphMixin):
    """``status_api``."""

    media_queue_url: NonEmpty
    """Where a media retry's jobs go."""

    admin_secret_arn: NonEmpty
    history_stall_after_seconds: Annotated[int, Meta(gt=0)] = 1800
    media_url_secret_arn: NonEmpty
    """The key that signs ``media.url`` (whoever serves the bytes checks it)."""
    media_url_base: str = ""
    """Where ``media.url`` points (``.../media/``); empty: what ``media_url_base_parameter`` holds."""
    media_url_base_parameter: str = ""
    """The SSM parameter holding the dashboard distribution's base, read when ``media_url_base`` is
    empty (AWS: the template cannot put the distribution's domain in this function's environment,
    D-44); neither set, or the parameter missing: no media URLs."""
    media_url_ttl_seconds: Annotated[int, Meta(ge=30, le=3600)] = 300
    replies_queue_url: NonEmpty
    """The replies' outbox (FIFO): where an accepted reply's send goes."""


@dataclass(frozen=True, kw_only=True)
class WatchdogSettings(TablesMixin, GraphMixin):
    """``watchdog``: the scheduled round over every connection."""

    history_stall_after_seconds: Annotated[int, Meta(gt=0)] = 1800
    alerts_topic_arn: NonEmpty
    media_queue_url: NonEmpty
    """Where the media sweep queues a lost download again."""
    media_sweep_after_seconds: Annotated[int, Meta(ge=60)] = 6 * 3600
    """A pending file listed longer ago has lost its job (a job's retries end within 3 hours)."""
    replies_queue_url: NonEmpty
    """Where the sweep queues again a reply whose job was lost."""
    reply_sweep_after_seconds: Annotated[int, Meta(ge=1)] = 300
    """A reply still pending this long after its acceptance (or last sweep) has lost its job."""


@dataclass(frozen=True, kw_only=True)
class DeadLettersMixin(_Settings):
    # records from these queues (comma-separated ARNs; the same value in every consumer) are dead
    # letters: recorded, never re-processed where they land (a retry goes through the archive:
    # make replay / make redrive)
    dead_letter_queue_arns: str = ""

    def is_dead_letter_queue(self, arn: str | None) -> bool:
        return bool(arn) and arn in {a.strip() for a in self.dead_letter_queue_arns.split(",") if a.strip()}


@dataclass(frozen=True, kw_only=True)
class ConsumerSettings(TablesMixin, ArchiveMixin, DeadLettersMixin):
    """The SQS consumers: ``history_chunk``, ``state_sync``, ``echo``, ``live_message``."""

    media_queue_url: NonEmpty
    """Where a media message's download job goes (the ``media_fetch`` function's queue)."""

    # parallel DynamoDB requests within a history chunk (its independent batched reads and lead
    # transactions); 1 where the emulation cannot take concurrent requests (moto does not lock)
    history_import_workers: Annotated[int, Meta(ge=1, le=16)] = 1


@dataclass(frozen=True, kw_only=True)
class ReplaySettings(TablesMixin, QueuesMixin, ReplayQueueMixin, DeadLettersMixin):
    """``unmatched_replay``: one job routes up to ``pages_per_job`` pages, then enqueues the rest."""

    replay_page_size: Annotated[int, Meta(gt=0, le=1000)] = 100
    replay_pages_per_job: Annotated[int, Meta(gt=0, le=100)] = 10


@dataclass(frozen=True, kw_only=True)
class ReconcilerSettings(TablesMixin, QueuesMixin):
    """``reconciler``: the scheduled sweep of changes stuck before an outcome (also ``make reconcile``)."""

    # a change not final this long after its last move is stuck; above the longest retry of a queue
    # (history: 5 receives x 30 min visibility) it would race SQS's own retries
    reconcile_after_seconds: Annotated[int, Meta(ge=0)] = 3 * 3600
    reconcile_page_size: Annotated[int, Meta(gt=0, le=1000)] = 100
    reconcile_max_pages: Annotated[int, Meta(gt=0, le=1000)] = 20
    reconcile_max_redrives: Annotated[int, Meta(gt=0, le=100)] = 5


@dataclass(frozen=True, kw_only=True)
class ArchiveReplaySettings(TablesMixin, QueuesMixin, ReplayQueueMixin):
    """The replay tool (``make replay``, run by an operator against a stack)."""


MEDIA_MAX_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class MediaSettings(TablesMixin, GraphMixin, DeadLettersMixin):
    """``media_fetch``: downloads each media file Meta announces into our bucket (CONTRACT §7 Media)."""

    media_bucket_name: NonEmpty
    media_max_bytes: Annotated[int, Meta(gt=0)] = MEDIA_MAX_BYTES
    media_download_hosts: NonEmpty = "lookaside.fbsbx.com"
    # how long a download holds its file; above the function's timeout, below the queue's visibility
    # (the local stack, whose queues bring records back within seconds, sets a few seconds)
    media_lease_seconds: Annotated[int, Meta(ge=5, le=3600)] = 330


@dataclass(frozen=True, kw_only=True)
class ReplySettings(TablesMixin, GraphMixin, DeadLettersMixin):
    """``reply_send``: the outbox's function, each accepted reply sent to Meta once (CONTRACT §7a)."""

    # how long a send holds its reply: above the function's timeout (a send past it died, and its
    # reply becomes unknown), below the queue's visibility
    reply_lease_seconds: Annotated[int, Meta(ge=5, le=900)] = 90
    # Meta's throughput per number is 20 sends a second: each send takes a slot of this pace (a
    # margin below 20: a send reaches Meta a moment after its slot), waiting for it up to
    # reply_pace_max_wait_seconds inside the function, else on the queue
    reply_sends_per_second: Annotated[float, Meta(gt=0, le=20)] = 18.5
    reply_pace_max_wait_seconds: Annotated[float, Meta(ge=0, le=40)] = 20.0
