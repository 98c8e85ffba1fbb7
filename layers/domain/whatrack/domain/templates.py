"""A WABA's message templates (CONTRACT §7 ``GET /connections/{id}/templates``): what a reply outside
Meta's customer service window may send. Only approved ones are offered; the BODY component's text
keeps its ``{{1}}``… placeholders, which the agent fills in order."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

APPROVED = "APPROVED"
PLACEHOLDER = re.compile(r"\{\{\s*(\d{1,3})\s*\}\}")


@dataclass(frozen=True)
class MessageTemplate:
    name: str
    language: str
    category: str | None
    body: str | None
    parameter_count: int


def template_of(item: Any) -> MessageTemplate | None:
    """An approved template as Meta lists it (``None``: not approved, or not a template at all)."""
    if not isinstance(item, dict) or item.get("status") != APPROVED:
        return None
    name, language = item.get("name"), item.get("language")
    if not isinstance(name, str) or not name or not isinstance(language, str) or not language:
        return None
    body = next(
        (
            c.get("text")
            for c in item.get("components") or []
            if isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY" and isinstance(c.get("text"), str)
        ),
        None,
    )
    category = item.get("category")
    return MessageTemplate(
        name=name,
        language=language,
        category=category if isinstance(category, str) else None,
        body=body,
        parameter_count=len({int(n) for n in PLACEHOLDER.findall(body or "")}),
    )


def rendered(body: str, parameters: Sequence[str]) -> str:
    """The text the customer reads: ``{{n}}`` replaced by the n-th parameter (a missing one stays)."""

    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return parameters[index] if 0 <= index < len(parameters) else match.group(0)

    return PLACEHOLDER.sub(fill, body)
