"""Batched reads and all-or-nothing groups of conditional writes, many groups per transaction.

:func:`read_items` reads any keys of one table with ``BatchGetItem`` (≤ 100 keys a request,
strongly consistent, unprocessed keys retried). :func:`write_groups` packs independent groups
into ``TransactWriteItems`` of ≤ 100 items: a group whose condition says no is dropped (and
reported), the others are written again; a group lands whole or not at all, with its counters.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.models import Model

from whatrack.adapters.dynamo.client import transaction_connection
from whatrack.adapters.dynamo.writes import (
    MAX_TRANSACTION_ITEMS,
    TRANSACTION_ATTEMPTS,
    TRANSACTION_CONDITION_FAILED,
    Increment,
    Key,
    OrderedTransactWrite,
    reason_codes,
    storage,
)
from whatrack.domain.errors import TransientError

BATCH_GET_KEYS = 100
READ_ATTEMPTS = 8


def read_items(table: type[Model], keys: Sequence[Key], *, workers: int = 1) -> dict[Key, dict[str, Any]]:
    """The raw items (``Model.from_raw_data`` shapes) of ``keys`` that exist, strongly consistent
    (pages of 100 keys, on up to ``workers`` threads)."""
    found: dict[Key, dict[str, Any]] = {}
    unique = list(dict.fromkeys(keys))
    pages = [unique[start : start + BATCH_GET_KEYS] for start in range(0, len(unique), BATCH_GET_KEYS)]
    for page in parallel(lambda keys: _read_page(table, keys), pages, workers):
        found.update(page)
    return found


def _read_page(table: type[Model], keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
    found: dict[Key, dict[str, Any]] = {}
    if keys:
        pending = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys]
        for attempt in range(READ_ATTEMPTS):
            if not pending:
                break
            if attempt:
                time.sleep(min(1.0, 0.02 * 2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter
            with storage("batch read"):
                # the model's own page reader (Model.batch_get maps every item to one model class)
                page, unprocessed = table._batch_get_page(  # type: ignore[no-untyped-call]
                    pending, consistent_read=True, attributes_to_get=None
                )
            for raw in page or []:
                found[(raw["pk"]["S"], raw["sk"]["S"])] = raw
            pending = unprocessed or []
        if pending:
            raise TransientError(f"batch read left {len(pending)} keys unprocessed")
    return found


@dataclass
class Write:
    """One item of a transaction: ``put`` when ``actions`` is ``None``, else an update."""

    item: Model
    condition: Any
    actions: list[Any] | None = None

    @property
    def key(self) -> Key:
        return (self.item.pk, self.item.sk)  # type: ignore[attr-defined]


@dataclass
class Group:
    """Writes that land together or not at all, and the counters that move only if they do."""

    writes: list[Write]
    increments: list[Increment] = field(default_factory=list)


def write_groups(groups: Sequence[Group], *, workers: int = 1) -> list[bool]:
    """Write every group (several per transaction, ≤ 100 items); per group, whether it landed.

    A group is refused when one of its conditions says no; the rest of its transaction is written
    again without it. Conflicts with concurrent transactions back off and retry. Two groups must
    not write the same item (DynamoDB refuses one item twice in a transaction). With ``workers`` > 1
    and no counters (transactions moving one counter would conflict with each other), the
    transactions are sent in parallel: they write distinct items, so their order does not matter.
    """
    landed = [False] * len(groups)
    pending = [i for i, group in enumerate(groups) if group.writes]
    batches: list[list[int]] = []
    while pending:
        batch, pending = _take(groups, pending)
        batches.append(batch)
    counted = any(group.increments for group in groups)
    for written in parallel(lambda batch: _write(groups, batch), batches, 1 if counted else workers):
        for index in written:
            landed[index] = True
    return landed


def parallel[T, R](work: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``work`` over ``items`` on up to ``workers`` threads (the botocore client is thread-safe); the
    results in the order of ``items``; the first failure is raised once all are done."""
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(work, items))


def _targets(groups: Sequence[Group], batch: Sequence[int]) -> set[tuple[str, Key]]:
    return {(model.__name__, key) for i in batch for model, key, _, _ in groups[i].increments}


def _take(groups: Sequence[Group], pending: list[int]) -> tuple[list[int], list[int]]:
    batch: list[int] = []
    size = 0
    for position, index in enumerate(pending):
        size += len(groups[index].writes)
        if batch and size + len(_targets(groups, [*batch, index])) > MAX_TRANSACTION_ITEMS:
            return batch, pending[position:]
        batch.append(index)
    return batch, []


def _write(groups: Sequence[Group], batch: list[int]) -> list[int]:
    conflicts = 0
    while batch:
        owners = [i for i in batch for _ in groups[i].writes]
        totals: dict[tuple[type[Model], Key], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for index in batch:
            for model, key, attribute, amount in groups[index].increments:
                totals[(model, key)][attribute] += amount
        tx = OrderedTransactWrite(connection=transaction_connection())
        try:
            with tx:
                for index in batch:
                    for write in groups[index].writes:
                        if write.actions is None:
                            tx.save(write.item, condition=write.condition)
                        else:
                            tx.update(write.item, actions=write.actions, condition=write.condition)
                for (model, key), amounts in totals.items():
                    adds = [getattr(model, a).add(n) for a, n in amounts.items() if n]
                    tx.update(model(key[0], key[1]), actions=adds)
        except TransactWriteError as exc:
            codes = tx.in_written_order(reason_codes(exc))
            refused = {owners[i] for i, code in enumerate(codes[: len(owners)]) if code == TRANSACTION_CONDITION_FAILED}
            if refused:
                batch = [i for i in batch if i not in refused]
                continue
            conflicts += 1  # a concurrent transaction on the same items (or throttling): back off
            if conflicts == TRANSACTION_ATTEMPTS:
                raise TransientError(f"transaction failed ({codes or exc.cause_response_code})") from exc
            time.sleep(min(2.0, 0.05 * 2**conflicts) * (0.5 + random.random()))  # noqa: S311 - jitter
            continue
        except PynamoDBException as exc:
            raise TransientError(f"transaction failed ({exc.cause_response_code or type(exc).__name__})") from exc
        return batch
    return []
