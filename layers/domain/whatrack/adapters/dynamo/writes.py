"""The conditional-write helpers every repository uses, and the one place storage errors are translated.

A condition that says no is an expected outcome (a replay, an out-of-order delivery, a rule): the
helpers answer ``False``. Anything else PynamoDB raises becomes :class:`TransientError` (retryable).
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo.client import transaction_connection
from whatrack.domain.errors import TransientError

Key = tuple[str, str]
CONDITIONAL_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CONDITION_FAILED = "ConditionalCheckFailed"
MAX_TRANSACTION_ITEMS = 100
TRANSACTION_ATTEMPTS = 8


def _failure(action: str, exc: PynamoDBException) -> TransientError:
    detail = reason_codes(exc) if isinstance(exc, TransactWriteError) and exc.cancellation_reasons else None
    return TransientError(f"{action} failed ({detail or exc.cause_response_code or type(exc).__name__})")


@contextmanager
def storage(action: str) -> Iterator[None]:
    """Translate any PynamoDB failure inside the block into :class:`TransientError`."""
    try:
        yield
    except PynamoDBException as exc:
        raise _failure(action, exc) from exc


def get_or_none[M: Model](model: type[M], key: Key, *, consistent_read: bool = False) -> M | None:
    with storage(f"{model.__name__} get"):
        try:
            return model.get(key[0], key[1], consistent_read=consistent_read)
        except DoesNotExist:
            return None


def reason_codes(exc: TransactWriteError) -> list[str | None]:
    return [r.code if r else None for r in (exc.cancellation_reasons or [])]


def _said_no(exc: PynamoDBException) -> bool:
    if isinstance(exc, TransactWriteError):
        return TRANSACTION_CONDITION_FAILED in reason_codes(exc)
    return exc.cause_response_code == CONDITIONAL_FAILED


def put_if_absent(item: Model, action: str) -> bool:
    """Insert ``item`` unless its key exists; True when inserted."""
    try:
        item.save(condition=type(item).pk.does_not_exist())  # type: ignore[attr-defined]
    except PynamoDBException as exc:
        if _said_no(exc):
            return False
        raise _failure(action, exc) from exc
    return True


def update_if(item: Model, actions: Sequence[Any], condition: Any, action: str) -> bool:
    """``UpdateItem`` under ``condition``; True when it applied, False when the condition said no."""
    try:
        item.update(actions=list(actions), condition=condition)
    except PynamoDBException as exc:
        if _said_no(exc):
            return False
        raise _failure(action, exc) from exc
    return True


def set_if_later(item: Model, attribute: Any, value: datetime, action: str) -> bool:
    """``SET attribute = value`` only if it moves the time forward (a conditional max)."""
    return update_if(item, [attribute.set(value)], attribute.does_not_exist() | (attribute < value), action)


COMMIT_ORDER = ("condition_check", "delete", "put", "update")
"""The order PynamoDB's ``TransactWrite`` sends a transaction's items in, whatever order they were
written in; DynamoDB's cancellation reasons come in that order."""


UNKNOWN_REFUSAL = "<not said>"
"""A refusal DynamoDB gave no reasons for: a caller must treat it as none of its named writes."""


class OrderedTransactWrite(TransactWrite):
    """A ``TransactWrite`` that remembers the order it was written in and each write's name
    (``name=`` on any write), so that a cancellation reason maps back to the write it concerns by
    name, not by position (:meth:`in_written_order`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds: list[str] = []
        self.names: list[str] = []

    def _note(self, kind: str, name: str | None) -> None:
        self.kinds.append(kind)
        self.names.append(name or f"write {len(self.kinds)}")

    def condition_check(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        self._note("condition_check", name)
        super().condition_check(*args, **kwargs)

    def delete(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        self._note("delete", name)
        super().delete(*args, **kwargs)

    def save(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        self._note("put", name)
        super().save(*args, **kwargs)

    def update(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        self._note("update", name)
        super().update(*args, **kwargs)

    def in_written_order[T](self, codes: Sequence[T | None]) -> list[T | None]:
        """``codes`` (or any per-write answer, in the order sent) rearranged in the order the writes
        were written."""
        sent = [i for kind in COMMIT_ORDER for i, written in enumerate(self.kinds) if written == kind]
        ordered: list[T | None] = [None] * len(self.kinds)
        for position, code in zip(sent, codes, strict=False):
            ordered[position] = code
        return ordered


def transact(action: str, build: Callable[[TransactWrite], None]) -> bool:
    """One transaction written by ``build``; True when it applied, False when a condition said no."""
    return not transact_refusals(action, build)


def transact_refusals(action: str, build: Callable[[OrderedTransactWrite], None]) -> frozenset[str]:
    """One transaction written by ``build``; the names of the writes whose condition said no
    (``{UNKNOWN_REFUSAL}`` when DynamoDB did not say which), so nothing applied; empty when it
    applied."""
    tx = OrderedTransactWrite(connection=transaction_connection())
    try:
        with tx:
            build(tx)
    except PynamoDBException as exc:
        if _said_no(exc):
            codes = tx.in_written_order(reason_codes(exc)) if isinstance(exc, TransactWriteError) else []
            refused = {tx.names[i] for i, code in enumerate(codes) if code == TRANSACTION_CONDITION_FAILED}
            return frozenset(refused) or frozenset({UNKNOWN_REFUSAL})
        raise _failure(action, exc) from exc
    return frozenset()


# --------------------------------------------------------------------------- transact-and-drop-existing
Increment = tuple[type[Model], Key, str, int]
"""``(model, key, attribute, amount)``: a counter that moves with an insert."""


@dataclass(frozen=True)
class Fill:
    """What an insert refused by a stored item still adds to it (a late arrival completing an early
    one): an update under ``condition``, moving ``increments`` if it applies. It is tried when the
    stored item ``lacks`` an attribute, or when its string attribute ``has[0]`` equals ``has[1]``."""

    actions: list[Any]
    condition: Any
    lacks: str | None = None
    has: tuple[str, str] | None = None
    increments: list[Increment] = field(default_factory=list)

    def applies(self, stored: dict[str, Any]) -> bool:
        """Whether the stored item (``ALL_OLD``, DynamoDB's JSON) is one this fill completes."""
        if self.has is not None:
            name, value = self.has
            return stored.get(name) == {"S": value}
        return self.lacks is not None and self.lacks not in stored


@dataclass
class CountedInsert:
    """Put ``item`` if its key is absent; apply ``increments`` only if it was inserted.

    ``guards``: conditions on the items the increments move (by key); when one says no the whole
    transaction is refused with :class:`TransientError` (e.g. a conversation merged meanwhile).

    ``stub_lacks``: set when an item may already hold a stub under its key, the attribute a stub
    never has (say ``conversation_id``). The item is still written as a conditional put (the cheap
    case, by far the common one), asking DynamoDB for the item that refused it (``ALL_OLD``, no extra
    read). When that item is a stub, the insert is written again as an update setting each of its
    attributes under ``attribute_not_exists(stub_lacks)``: the stub's own attributes survive and the
    insert completes it (and counts it: the stub was never counted)."""

    item: Model
    increments: list[Increment] = field(default_factory=list)
    guards: dict[Key, Any] = field(default_factory=dict)
    stub_lacks: str | None = None
    completes_stub: bool = False
    fills: Callable[[], Sequence[Fill]] = tuple
    """What a refusal by a stored item may still add (built only then: most inserts never need it)."""
    checks: list[tuple[type[Model], Key, Any]] = field(default_factory=list)
    """Conditions on other items that must hold for this insert (``ConditionCheck``s in its
    transaction); one that says no refuses the transaction with :class:`TransientError`."""

    @property
    def key(self) -> Key:
        return (self.item.pk, self.item.sk)  # type: ignore[attr-defined]

    def write(self, tx: TransactWrite) -> None:
        model = type(self.item)
        if not self.completes_stub:
            return_values = ALL_OLD if self.stub_lacks else None
            tx.save(self.item, condition=model.pk.does_not_exist(), return_values=return_values)  # type: ignore[attr-defined]
            return
        actions: list[Action] = [
            attribute.set(value)
            for name, attribute in model.get_attributes().items()
            if not (attribute.is_hash_key or attribute.is_range_key) and (value := getattr(self.item, name)) is not None
        ]
        tx.update(self.item, actions=actions, condition=getattr(model, str(self.stub_lacks)).does_not_exist())

    def refused_by_stub(self, stored: dict[str, Any] | None) -> bool:
        """Whether the item that refused this insert (``ALL_OLD``; None when DynamoDB did not send
        it) may be a stub to complete: the update form is then tried (it refuses a stored item)."""
        if self.stub_lacks is None or self.completes_stub:
            return False
        attribute = type(self.item).get_attributes()[self.stub_lacks]
        return stored is None or attribute.attr_name not in stored


@dataclass
class CountedUpdate(CountedInsert):
    """Update ``item`` under ``condition`` (``actions``); apply ``increments`` only if it applied."""

    actions: list[Any] = field(default_factory=list)
    condition: Any = None

    def write(self, tx: TransactWrite) -> None:
        tx.update(self.item, actions=self.actions, condition=self.condition)


def write_counted(inserts: Sequence[CountedInsert]) -> set[Key]:
    """Insert what is new, with its counters, in transactions of up to 100 items.

    Returns the keys actually inserted (or stubs completed). Items that already exist are dropped from the
    transaction (and so are their increments); conflicts with concurrent transactions back off
    and retry. No read precedes the writes, so counters can never drift from what was inserted.
    """
    inserted: set[Key] = set()
    pending = _dedupe(inserts)
    while pending:
        batch, pending = _take_batch(pending)
        inserted |= _write_batch(batch)
    return inserted


def _dedupe(inserts: Iterable[CountedInsert]) -> list[CountedInsert]:
    seen: set[Key] = set()
    out = []
    for insert in inserts:
        if insert.key not in seen:
            seen.add(insert.key)
            out.append(insert)
    return out


def _targets(batch: Sequence[CountedInsert]) -> set[tuple[str, Key]]:
    """The items a batch writes besides its inserts: its counters and its checks."""
    return {(model.__name__, key) for i in batch for model, key, _, _ in i.increments} | {
        (f"check:{model.__name__}", key) for i in batch for model, key, _ in i.checks
    }


def _take_batch(pending: list[CountedInsert]) -> tuple[list[CountedInsert], list[CountedInsert]]:
    batch: list[CountedInsert] = []
    targets: set[tuple[str, Key]] = set()
    for index, insert in enumerate(pending):
        more = _targets([insert]) - targets
        if len(batch) + 1 + len(targets) + len(more) > MAX_TRANSACTION_ITEMS:
            return batch, pending[index:]
        batch.append(insert)
        targets |= more
    return batch, []


def _write_batch(batch: list[CountedInsert]) -> set[Key]:
    for attempt in range(TRANSACTION_ATTEMPTS):
        if not batch:
            return set()
        tx = OrderedTransactWrite(connection=transaction_connection())
        try:
            with tx:
                _write_transaction(tx, batch)
        except TransactWriteError as exc:
            codes = tx.in_written_order(reason_codes(exc))
            if TRANSACTION_CONDITION_FAILED in codes[len(batch) :]:
                raise TransientError("a counted item refused the write (merged meanwhile): retry") from exc
            refused = {i for i, code in enumerate(codes[: len(batch)]) if code == TRANSACTION_CONDITION_FAILED}
            if refused:
                stored = tx.in_written_order([r.raw_item if r else None for r in exc.cancellation_reasons])
                kept = [_again(insert, stored[i]) if i in refused else insert for i, insert in enumerate(batch)]
                batch = [insert for insert in kept if insert is not None]
                continue
            if attempt + 1 == TRANSACTION_ATTEMPTS:
                raise TransientError(f"transaction failed ({codes or exc.cause_response_code})") from exc
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))  # noqa: S311 - jitter
            continue
        return {insert.key for insert in batch if not isinstance(insert, FillUpdate)}
    raise TransientError("transaction kept conflicting")


def _write_transaction(tx: TransactWrite, batch: Sequence[CountedInsert]) -> None:
    """The batch's inserts, then one update per counted item (its guard as condition), then its checks."""
    totals: dict[tuple[type[Model], Key], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    guards: dict[Key, Any] = {}
    for insert in batch:
        guards.update(insert.guards)
        for model, key, attribute, amount in insert.increments:
            totals[(model, key)][attribute] += amount
    folded = _folded(batch, totals)
    for insert in batch:
        (_with_counts(insert, folded[insert.key]) if insert.key in folded else insert).write(tx)
    for (model, key), amounts in totals.items():
        if key in folded:
            continue  # counted in the item put by this transaction
        actions = [getattr(model, a).add(n) for a, n in amounts.items() if n]
        tx.update(model(key[0], key[1]), actions=actions, condition=guards.get(key))
    checks = {(m.__name__, k): (m, k, c) for i in batch for m, k, c in i.checks}
    for model, key, condition in checks.values():
        tx.condition_check(model, key[0], key[1], condition=condition)


def _folded(
    batch: Sequence[CountedInsert], totals: dict[tuple[type[Model], Key], dict[str, int]]
) -> dict[Key, dict[str, int]]:
    """Counters of an item the same transaction puts (a new conversation with its first messages):
    a transaction may name an item once, so they are written into the put item instead."""
    puts = {
        insert.key: type(insert.item) for insert in batch if type(insert) is CountedInsert and not insert.completes_stub
    }
    return {key: amounts for (model, key), amounts in totals.items() if puts.get(key) is model}


def _with_counts(insert: CountedInsert, amounts: dict[str, int]) -> CountedInsert:
    item = type(insert.item).from_raw_data(insert.item.serialize())
    for attribute, amount in amounts.items():
        setattr(item, attribute, (getattr(item, attribute) or 0) + amount)
    return replace(insert, item=item)


@dataclass
class FillUpdate(CountedUpdate):
    """A refused insert's :class:`Fill`: written in the next attempt, never counted as inserted."""


def _again(insert: CountedInsert, stored: dict[str, Any] | None) -> CountedInsert | None:
    """A refused insert: written again as the completion of a stub, as the first of its fills that
    applies to the stored item, or dropped (already stored)."""
    if insert.refused_by_stub(stored):
        return replace(insert, completes_stub=True)
    if stored is None or isinstance(insert, FillUpdate):
        return None
    fill = next((f for f in insert.fills() if f.applies(stored)), None)
    if fill is None:
        return None
    return FillUpdate(insert.item, list(fill.increments), actions=list(fill.actions), condition=fill.condition)
