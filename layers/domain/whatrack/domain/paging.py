"""One page of a list, and the opaque cursor of the next one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_cursor: str | None
