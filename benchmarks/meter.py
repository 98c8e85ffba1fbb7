"""DynamoDB requests, write units and an injected latency, at botocore (as ``devstack.faults`` does).

One patch of ``BaseClient._make_api_call`` sees every AWS call made in this process (boto3 and
PynamoDB alike). :func:`metered` counts DynamoDB requests by operation, sleeps ``delay_s`` before
each one (a stand-in for the network round trip to DynamoDB: moto answers in microseconds, AWS in
milliseconds), and adds the write capacity units AWS would bill for it, by item size:

* 1 WCU per started KB of the larger of the item before and after the write (DynamoDB's rule), at
  least 1, for ``PutItem``, ``UpdateItem``, ``DeleteItem`` and each ``BatchWriteItem`` request;
* twice that for every item of a ``TransactWriteItems`` (``ConditionCheck`` included);
* a refused write (condition failed, transaction cancelled) is counted too: AWS bills it.

Sizes come from moto's own item store (``Item.size()``: attribute names plus values), read
directly from the backend, so the lookup is no request. Only calls made while
``devstack.runtime.invoking`` names one of ``functions`` are metered when ``functions`` is given.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from devstack.runtime import ApiCall, around_api_calls, invoking

KB = 1024
ACCOUNT = "123456789012"  # moto's default account


@dataclass
class Meter:
    requests: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    transactional_write_units: float = 0.0
    seconds_delayed: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def add(self, operation: str, units: float, transactional: float) -> None:
        with self._lock:
            self.requests[operation] += 1
            self.write_units += units
            self.transactional_write_units += transactional


def _backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT]["us-east-1"]


def _stored_size(table: str, key: dict[str, Any]) -> int:
    """Bytes of the stored item under ``key`` (typed wire form), 0 when there is none."""
    try:
        backend = _backend()
        found = backend.get_item(table, key)
    except Exception:
        return 0
    return int(found.size()) if found is not None else 0


def _key_of(table: str, item: dict[str, Any]) -> dict[str, Any]:
    try:
        found = _backend().get_table(table)
    except Exception:
        return {}
    names = [found.hash_key_attr] + ([found.range_key_attr] if found.range_key_attr else [])
    return {n: item[n] for n in names if n in item}


def _wire_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item in typed wire form (names + values), without moto."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return math.ceil(len(str(inner).lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in inner.items())
    return 0


def units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def _planned(operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], int, bool]]:
    """(kind, table, key, new-item size, transactional) per item the request writes."""
    out: list[tuple[str, str, dict[str, Any], int, bool]] = []
    if operation == "PutItem":
        table = params["TableName"]
        out.append(("Put", table, _key_of(table, params["Item"]), _wire_size(params["Item"]), False))
    elif operation in ("UpdateItem", "DeleteItem"):
        out.append((operation[:-4], params["TableName"], params["Key"], 0, False))
    elif operation == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    out.append(("Put", table, _key_of(table, item), _wire_size(item), False))
                else:
                    out.append(("Delete", table, request["DeleteRequest"]["Key"], 0, False))
    elif operation == "TransactWriteItems":
        for entry in params["TransactItems"]:
            kind, op = next(iter(entry.items()))
            table = op["TableName"]
            if kind == "Put":
                out.append(("Put", table, _key_of(table, op["Item"]), _wire_size(op["Item"]), True))
            else:
                out.append((kind, table, op["Key"], 0, True))
    return out


@contextmanager
def metered(delay_s: float = 0.0, functions: frozenset[str] | None = None) -> Iterator[Meter]:
    """Count (and delay) DynamoDB requests while active; see the module's docstring."""
    meter = Meter()

    def metering(original: ApiCall, client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name != "dynamodb" or (
            functions is not None and invoking.get() not in functions
        ):
            return original(client, operation, params)
        planned = _planned(operation, params)
        before = [_stored_size(table, key) if key else 0 for _, table, key, _, _ in planned]
        if delay_s:
            time.sleep(delay_s)
            meter.seconds_delayed += delay_s
        try:
            return original(client, operation, params)
        finally:
            total = 0.0
            transactional = 0.0
            for (kind, table, key, new_size, in_transaction), old in zip(planned, before, strict=True):
                after = _stored_size(table, key) if kind == "Update" and key else new_size
                charged = units(max(old, after)) * (2 if in_transaction else 1)
                total += charged
                transactional += charged if in_transaction else 0
            meter.add(operation, total, transactional)

    with around_api_calls(metering):
        yield meter
