"""What the functions' wiring modules share: building once per execution environment, the one reset,
table binding, the change publisher and the Graph client."""

from __future__ import annotations

import functools
from collections.abc import Callable

from whatrack.adapters import aws
from whatrack.adapters.dynamo import client as dynamo_client
from whatrack.adapters.dynamo.tables import bind_tables
from whatrack.adapters.graph import HttpGraphApi
from whatrack.adapters.queues import SqsChangePublisher
from whatrack.config import GraphMixin, QueuesMixin, TablesMixin
from whatrack.domain.changes import QueueName

_BUILT: list[Callable[[], object]] = []


def once[T](build: Callable[[], T]) -> Callable[[], T]:
    """Build the first time it is asked for, then the same object (one per execution environment)."""
    cached = functools.cache(build)
    _BUILT.append(cached)
    return cached


def reset() -> None:
    """Forget every built setting, service and AWS client (tests; local stack restarts)."""
    for built in _BUILT:
        built.cache_clear()  # type: ignore[attr-defined]
    dynamo_client.reset()
    aws.reset()


def bind(settings: TablesMixin) -> None:
    """This deployment's tables, for every item model."""
    bind_tables(accounts=settings.accounts_table_name, inbox=settings.inbox_table_name, log=settings.log_table_name)


def publisher(settings: QueuesMixin) -> SqsChangePublisher:
    return SqsChangePublisher(
        {
            QueueName.HISTORY: settings.history_queue_url,
            QueueName.CONTACTS: settings.contacts_queue_url,
            QueueName.ECHOES: settings.echoes_queue_url,
            QueueName.LIVE_MESSAGES: settings.live_messages_queue_url,
            QueueName.ACCOUNT_UPDATES: settings.account_updates_queue_url,
        }
    )


def graph(settings: GraphMixin, app_secret: Callable[[], str]) -> HttpGraphApi:
    return HttpGraphApi(
        base_url=settings.graph_api_base_url,
        version=settings.graph_api_version,
        app_id=settings.meta_app_id,
        app_secret=app_secret,
        timeout_seconds=settings.graph_timeout_seconds,
    )
