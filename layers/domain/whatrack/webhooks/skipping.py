"""One bad item never sinks its change: list items that fail validation are skipped and noted.

A history chunk of 3,000 messages with one bad timestamp imports the other 2,999; the change's log
entry says which items were skipped and why (:func:`collecting_skipped`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar

from pydantic import ValidationError, ValidationInfo, ValidatorFunctionWrapHandler, WrapValidator


class Skipped(list[str]):
    """What :func:`collecting_skipped` collected: the skipped items' reasons, and how many were kept."""

    kept: int = 0

    @property
    def everything(self) -> bool:
        """Every item of the change was invalid: nothing of it can be processed."""
        return bool(self) and self.kept == 0

    def note(self) -> str | None:
        """The log entry's note for a change processed without some of its items."""
        if not self:
            return None
        shown = "; ".join(self[:MAX_SKIPPED_SHOWN])
        more = f"; and {len(self) - MAX_SKIPPED_SHOWN} more" if len(self) > MAX_SKIPPED_SHOWN else ""
        what = "every item was invalid" if self.everything else "the rest processed"
        return f"{len(self)} invalid item(s) skipped, {what}: {shown}{more}"


_skipped: ContextVar[Skipped | None] = ContextVar("skipped_items", default=None)
MAX_SKIPPED_SHOWN = 5


@contextmanager
def collecting_skipped() -> Iterator[Skipped]:
    """Collect, while parsing a change, the items of its lists that were skipped as invalid."""
    skipped = Skipped()
    token = _skipped.set(skipped)
    try:
        yield skipped
    finally:
        _skipped.reset(token)


def _valid_items(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """A list whose invalid items are skipped (and noted) instead of failing the whole change: one
    message with a bad timestamp must not cost the other 2,999 of its history chunk."""
    if not isinstance(value, list):
        return handler(value)
    kept: list[Any] = []
    collected = _skipped.get()
    for index, item in enumerate(value):
        try:
            kept += handler([item])
        except ValidationError as exc:
            label = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
            where = f"{info.field_name}[{index}]" + (f" ({label[:64]})" if label else "")
            reasons = ", ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors()[:2])
            if collected is None:
                raise  # parsed outside a consumer: nothing would record the skip, so do not skip
            collected.append(f"{where}: {reasons}")
    if collected is not None:
        collected.kept += len(kept)
    return kept


T = TypeVar("T")
Items = Annotated[list[T], WrapValidator(_valid_items)]
"""A list of ``T`` in which an invalid item is skipped and noted (see :func:`collecting_skipped`)."""


def note_skipped(reason: str) -> None:
    """An item that parsed but cannot be applied (a reaction naming no message, say): noted in the
    change's log entry like an invalid one (outside a consumer there is no entry: only logged)."""
    collected = _skipped.get()
    if collected is not None:
        collected.append(reason)
