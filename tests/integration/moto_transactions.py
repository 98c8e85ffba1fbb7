"""moto's ``TransactWriteItems`` without its per-item deep copy of the whole table.

moto backs up a table (``copy.deepcopy``) once per *item* of every transaction, only to roll back
a refusal: a transaction of 100 items on a table of 15,000 items copies 1.5 M items. DynamoDB
evaluates every condition before writing anything, so this shim does the same: it checks all
conditions first (refusing with the same per-item reasons), and only writes, uncopied, when they
all hold. The requests botocore sends, and what they do, are unchanged: only the emulator is faster.
Used by the tests and the benchmark that sync thousands of contacts.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

NO_COPY = types.SimpleNamespace(deepcopy=lambda value: value)


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


@contextmanager
def fast_transactions() -> Iterator[None]:
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        errors: list[tuple[str | None, str | None, None]] = []
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            condition = op.get("ConditionExpression")
            if condition is None:
                errors.append((None, None, None))
                continue
            current = self.get_item(op["TableName"], _key(self, op_type, op))
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if get_filter_expression(condition, names, values).expr(current):
                errors.append((None, None, None))
            else:
                errors.append(("ConditionalCheckFailed", "The conditional request failed", None))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        saved = dynamodb_models.copy
        dynamodb_models.copy = NO_COPY  # type: ignore[assignment]
        try:
            original(self, transact_items)
        finally:
            dynamodb_models.copy = saved

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]
