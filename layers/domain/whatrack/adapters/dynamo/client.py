"""One DynamoDB client for every item model and transaction, bound to tables at runtime.

PynamoDB keeps the table name and a connection on each model class, and would build a client per
model class and per transaction, each in a botocore session of its own (~100 ms each on a cold
start). The item models (``tables.py``) take this one client on every use; it comes from the
function's one boto3 session (:func:`whatrack.adapters.aws.session`), so DynamoDB, S3, SQS and
Secrets Manager share the service data loaded once. :func:`reset` forgets it (tests, local stack).
"""

from __future__ import annotations

import functools
from typing import Any

from botocore.config import Config
from pynamodb.connection import Connection as PynamoConnection

from whatrack.adapters import aws

# what PynamoDB gives its own client (its defaults: no parameter validation, 15 s to connect, 30 s to
# read, 10 pooled connections, 1 + 3 attempts)
PYNAMODB_LIKE = Config(
    parameter_validation=False,
    connect_timeout=15,
    read_timeout=30,
    max_pool_connections=10,
    retries={"total_max_attempts": 4, "mode": "standard"},
)


@functools.cache
def shared_client() -> Any:
    return aws.session().client("dynamodb", config=PYNAMODB_LIKE)


def reset() -> None:
    shared_client.cache_clear()


def transaction_connection() -> PynamoConnection:
    connection = PynamoConnection()
    connection._client = shared_client()
    return connection
