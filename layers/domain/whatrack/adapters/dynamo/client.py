"""One botocore DynamoDB client for every item model and transaction, bound to tables at runtime.

PynamoDB keeps the table name and a connection on each model class, and would build a client per
model class and per transaction (~100 ms each on a cold start). The item models
(``tables.py``) take this client on every use; :func:`reset` forgets it (tests, local stack).
"""

from __future__ import annotations

import functools
from typing import Any

from pynamodb.connection import Connection as PynamoConnection


@functools.cache
def shared_client() -> Any:
    return PynamoConnection().client


def reset() -> None:
    shared_client.cache_clear()


def transaction_connection() -> PynamoConnection:
    connection = PynamoConnection()
    connection._client = shared_client()
    return connection
