"""moto's ``TransactWriteItems`` with a rollback of the items it touched, not a copy of every table.

moto 5.2.5 backs up (``copy.deepcopy``) every table a transaction names, once per *item* of the
transaction, only to restore them if the transaction is cancelled: a transaction costs time in
proportion to everything stored so far, and a local stack slows down as it fills. Here the
transaction runs moto's own loop, statement for statement (the same checks in the same order,
the same errors, the same ``CancellationReasons``, ``ALL_OLD`` items included), but before each
write it keeps the one item that write may change (and the length of the table's stream), and a
cancelled transaction puts back just those. What botocore sees is unchanged; only the emulator
stops copying tables.

The patch is written against one moto version (the ``moto[server]`` pin of
``requirements/dev.txt``): :func:`install` refuses any other, so an upgrade cannot change the
semantics silently. :func:`install` also makes every request atomic (:mod:`devstack.atomic`), as AWS
applies them. The local stack (:mod:`devstack.server`), the integration tier and the benchmarks
install it; :func:`unpatched` runs moto as it is (for comparison tests).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import moto
import moto.backends
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord, Table
from moto.dynamodb.parsing.ast_nodes import UpdateExpression  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import ActionCountValidator, OverlappingPathsValidator

from devstack import atomic

SUPPORTED_MOTO_VERSION = "5.2.5"

TransactWrite = Callable[[DynamoDBBackend, list[dict[str, Any]]], None]
ORIGINAL_TRANSACT_WRITE_ITEMS: TransactWrite = DynamoDBBackend.transact_write_items
ORIGINAL_LIST_OF_MOTO_MODULES = moto.backends.list_of_moto_modules
ORIGINAL_MAKE = UpdateExpressionParser.make
ORIGINAL_TRAVERSALS = {cls: cls.traverse for cls in (ActionCountValidator, OverlappingPathsValidator)}
_lock = threading.Lock()


class UnsupportedMotoVersion(RuntimeError):
    """moto is not the version this patch copies its transaction loop from."""


@dataclass
class _Undo:
    """What a transaction changed so far: the items before their write, the streams' lengths."""

    items: list[tuple[Table, DynamoType, DynamoType | None, Item | None]] = field(default_factory=list)
    streams: dict[int, tuple[Any, list[StreamRecord], int]] = field(default_factory=dict)

    def keep(self, table: Table, hash_key: DynamoType, range_key: DynamoType | None, op_type: str) -> None:
        if op_type == "ConditionCheck":
            return  # writes nothing
        current = table.get_item(hash_key, range_key)
        # an update changes the item in place; a put replaces it, a delete removes it
        before = copy.deepcopy(current) if op_type == "Update" and current is not None else current
        self.items.append((table, hash_key, range_key, before))
        shard = table.stream_shard
        if shard is not None and id(shard) not in self.streams:
            self.streams[id(shard)] = (shard, shard.items, len(shard.items))

    def rollback(self) -> None:
        for table, hash_key, range_key, before in reversed(self.items):
            if table.has_range_key:
                if before is None:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = before
            elif before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before  # type: ignore[assignment]
        for shard, records, length in self.streams.values():
            del records[length:]
            shard.items = records


class _Conditions:
    """The transaction's condition expressions, each parsed once: a batch of puts carries the same
    ``attribute_not_exists(#0)`` a hundred times (moto parses it per item, and parsed it twice: once
    to check, once more inside the write; the write is now handed no condition, as it was just checked
    on the same item in the same step)."""

    def __init__(self) -> None:
        self._parsed: dict[str, Any] = {}

    def parsed(self, condition: str, names: dict[str, str] | None, values: dict[str, Any] | None) -> Any:
        key = json.dumps([condition, names, values], sort_keys=True)
        if key not in self._parsed:
            self._parsed[key] = get_filter_expression(condition, names, values)
        return self._parsed[key]


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    attrs = op["Item"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _write(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    table_name, condition = op["TableName"], op.get("ConditionExpression")
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(
            table_name,
            op["Item"],
            condition_expression=condition,
            expression_attribute_names=names,
            expression_attribute_values=values,
        )
    elif op_type == "Delete":
        backend.delete_item(
            table_name,
            key,
            condition_expression=condition,
            expression_attribute_names=names,
            expression_attribute_values=values,
        )
    elif op_type == "Update":
        backend.update_item(
            table_name,
            key,
            update_expression=op["UpdateExpression"],
            condition_expression=condition,
            expression_attribute_names=names,  # type: ignore[arg-type]
            expression_attribute_values=values,  # type: ignore[arg-type]
        )


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's ``DynamoDBBackend.transact_write_items``, with :class:`_Undo` for its table copies."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _Undo()
    conditions = _Conditions()
    target_items: set[tuple[str, str]] = set()
    errors: list[tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name, condition = op["TableName"], op.get("ConditionExpression")
            key = _key_of(self, op_type, op)
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in target_items:
                raise MultipleTransactionsException()
            target_items.add(target)
            current = self.get_item(table_name, key)
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if condition is not None and not conditions.parsed(condition, names, values).expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
            table = self.get_table(table_name)
            undo.keep(table, *self.get_keys_value(table, key), op_type)
            _write(self, op_type, {**op, "ConditionExpression": None}, key)  # checked just above
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            undo.rollback()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # moto reports any other failure as a reason, by its type
            errors.append((type(e).__name__, str(e), original_item))
    if any(code is not None for code, _, _ in errors):
        undo.rollback()
        raise TransactionCanceledException(errors)


# ------------------------------------------------------------------------------- update expressions
@functools.lru_cache(maxsize=1024)
def _parsed_update(expression: str) -> UpdateExpression:
    return ORIGINAL_MAKE(expression)


def make_update_expression(cls: type[UpdateExpressionParser], expression: str) -> UpdateExpression:
    """moto parses an ``UpdateExpression`` twice per write (to check the names used, then to apply
    it), and PynamoDB sends the same few shapes again and again: each is parsed once. Safe to share:
    moto reads the parsed tree, and its validator works on a deep copy."""
    return _parsed_update(expression)


def _at_the_root(check: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """moto runs its duplicate-path and clause-count checks on every node of the tree (every clause,
    action, path and value is an ``UpdateExpression`` there), each collecting the clauses below it:
    time quadratic in the actions, ~0.5 ms per action of a 20-action update. The root's check sees
    every clause, so it refuses whatever a node below would; only the paths named in the error of
    an expression with several duplicates may differ."""

    def traverse(self: Any, node: Any) -> Any:
        if isinstance(node, UpdateExpression):
            check(self, node)
        return node

    return traverse


ROOT_TRAVERSALS = {
    ActionCountValidator: _at_the_root(ActionCountValidator.verify_action_counts),
    OverlappingPathsValidator: _at_the_root(OverlappingPathsValidator.check_for_overlapping_paths),
}


@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(ORIGINAL_LIST_OF_MOTO_MODULES())


def list_of_moto_modules() -> Iterable[str]:
    """moto's server lists its package directory (a ``stat`` per entry, ~170) for every request it
    routes; the directory does not change while it runs, so list it once."""
    return _moto_modules()


def check_version(version: str | None = None) -> None:
    found = version if version is not None else moto.__version__
    if found != SUPPORTED_MOTO_VERSION:
        raise UnsupportedMotoVersion(
            f"devstack.moto_patches copies moto {SUPPORTED_MOTO_VERSION}'s transact_write_items and moto is "
            f"{found}: compare the new moto's DynamoDBBackend.transact_write_items with this module's, port "
            "any change, then update SUPPORTED_MOTO_VERSION (or pin moto back in requirements/dev.txt)"
        )


def install() -> None:
    """Run DynamoDB transactions of every moto backend of this process through :func:`transact_write_items`,
    apply every request atomically (:mod:`devstack.atomic`), and let moto's server route requests without
    listing its package directory each time."""
    check_version()
    atomic.install()
    with _lock:
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        moto.backends.list_of_moto_modules = list_of_moto_modules
        UpdateExpressionParser.make = classmethod(make_update_expression)
        for cls, traverse in ROOT_TRAVERSALS.items():
            cls.traverse = traverse


def uninstall() -> None:
    atomic.uninstall()
    with _lock:
        DynamoDBBackend.transact_write_items = ORIGINAL_TRANSACT_WRITE_ITEMS  # type: ignore[method-assign,assignment]
        moto.backends.list_of_moto_modules = ORIGINAL_LIST_OF_MOTO_MODULES
        UpdateExpressionParser.make = ORIGINAL_MAKE
        for cls, traverse in ORIGINAL_TRAVERSALS.items():
            cls.traverse = traverse


def installed() -> bool:
    return DynamoDBBackend.transact_write_items is transact_write_items


@contextmanager
def patched() -> Iterator[None]:
    """:func:`install` for the block, then back to what was there."""
    was = installed()
    install()
    try:
        yield
    finally:
        if not was:
            uninstall()


@contextmanager
def unpatched() -> Iterator[None]:
    """moto as it is (its transactions' table copies, no request locks) for the block, then back to what was there."""
    was = installed()
    uninstall()
    try:
        yield
    finally:
        if was:
            install()
