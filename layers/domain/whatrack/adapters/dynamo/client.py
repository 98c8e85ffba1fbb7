"""One botocore DynamoDB client for every item model and transaction, bound to tables at runtime.

PynamoDB keeps the table name and a connection on each model class, and would build a client per
model class and per transaction (~100 ms each on a cold start). :func:`bind_models` points models
at a physical table and at the one shared client; :func:`reset` forgets it (tests, local stack).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from pynamodb.connection import Connection as PynamoConnection
from pynamodb.models import Model


@functools.cache
def shared_client() -> Any:
    return PynamoConnection().client


def reset() -> None:
    shared_client.cache_clear()


def transaction_connection() -> PynamoConnection:
    connection = PynamoConnection()
    connection._client = shared_client()
    return connection


def bind_models(models: Iterable[type[Model]], table_name: str) -> None:
    """Point ``models`` at ``table_name`` and make them share the one client."""
    for model in models:
        model.Meta.table_name = table_name
        model._connection = None
        model._get_connection().connection._client = shared_client()
