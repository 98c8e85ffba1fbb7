"""What changes a stored message without being one (CONTRACT §7): reactions and edits.

Both are kept on their target message's key, whether the target is stored yet or not (like the
statuses of §8.9), and what the inbox shows is computed from everything kept, so any order of
arrival, and any number of deliveries, shows the same:

- a reaction is one per side (customer, business): the latest (by time, then by its own wamid)
  wins, an empty emoji removes the side's reaction;
- an edit is kept once per edit wamid; the latest edit (same order) is what the message shows, the
  original and the earlier edits are its versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from whatrack.domain.clock import iso, parse_iso
from whatrack.domain.messages import Direction, Message, ShownReaction, Version


def _order(at: datetime, wamid: str) -> str:
    """The order of two annotations of one message: time, then wamid (equal ISO lengths sort as text)."""
    return f"{iso(at)}#{wamid}"


@dataclass(frozen=True)
class Reaction:
    """``type: "reaction"``: ``emoji`` on ``target`` by one side; an empty emoji removes it."""

    target: str
    id: str
    direction: Direction
    emoji: str
    at: datetime

    @property
    def order(self) -> str:
        return _order(self.at, self.id)

    def record(self) -> dict[str, Any]:
        return {"emoji": self.emoji, "at": iso(self.at), "id": self.id, "order": self.order}


@dataclass(frozen=True)
class Edit:
    """``type: "edit"``: the new text (or caption) of ``target``."""

    target: str
    id: str
    body: str | None
    at: datetime

    @property
    def order(self) -> str:
        return _order(self.at, self.id)

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "body": self.body, "at": iso(self.at), "order": self.order}


Annotation = Reaction | Edit


def latest_of_each(annotations: Iterable[Annotation]) -> list[Annotation]:
    """What of ``annotations`` can change anything: each side's latest reaction per target, and
    each edit once (the earlier reactions of one delivery are never written)."""
    kept: dict[tuple[str, str], Annotation] = {}
    for annotation in annotations:
        side = annotation.direction.value if isinstance(annotation, Reaction) else f"edit:{annotation.id}"
        found = kept.get((annotation.target, side))
        if found is None or found.order < annotation.order:
            kept[(annotation.target, side)] = annotation
    return list(kept.values())


def latest_reaction(kept: Mapping[str, Any] | None, reaction: Reaction) -> bool:
    """Whether ``reaction`` replaces the side's ``kept`` record (the latest wins)."""
    return kept is None or str(kept.get("order", "")) < reaction.order


def shown_reactions(kept: Mapping[Direction, Mapping[str, Any] | None]) -> tuple[ShownReaction, ...]:
    """The sides' latest reactions that still have an emoji, customer first."""
    shown = []
    for direction in (Direction.INBOUND, Direction.OUTBOUND):
        record = kept.get(direction)
        at = parse_iso(str(record.get("at") or "")) if record else None
        if record and record.get("emoji") and at is not None:
            shown.append(ShownReaction(emoji=str(record["emoji"]), direction=direction, at=at))
    return tuple(shown)


@dataclass(frozen=True)
class ShownEdits:
    body: str | None
    edited_at: datetime | None
    versions: tuple[Version, ...]


def shown_edits(body: str | None, sent_at: datetime, kept: Iterable[Mapping[str, Any]]) -> ShownEdits:
    """The text a message shows after its ``kept`` edit records (any order, repeats included), when
    it was last edited, and its earlier versions, oldest first (the original sent at ``sent_at``)."""
    edits = sorted({str(r.get("id")): r for r in kept if r.get("order")}.values(), key=lambda r: str(r["order"]))
    if not edits:
        return ShownEdits(body=body, edited_at=None, versions=())
    versions = [Version(body=body, at=sent_at)]
    for record in edits[:-1]:
        versions.append(Version(body=record.get("body"), at=parse_iso(record.get("at")) or sent_at))
    latest = edits[-1]
    return ShownEdits(body=latest.get("body"), edited_at=parse_iso(latest.get("at")), versions=tuple(versions))


def annotated(
    message: Message, reactions: Mapping[Direction, Mapping[str, Any] | None], edits: Iterable[Mapping[str, Any]]
) -> Message:
    """``message`` as the inbox shows it with its kept reactions and edits (an edit of a media
    message changes its caption)."""
    shown = shown_edits(message.body, message.timestamp, edits)
    media = message.media
    if shown.edited_at is not None and media is not None:
        media = replace(media, caption=shown.body)
    return replace(
        message,
        body=shown.body,
        media=media,
        edited_at=shown.edited_at,
        edits=shown.versions,
        reactions=shown_reactions(reactions),
    )
