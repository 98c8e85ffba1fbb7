"""Numbers written as text, as Meta and HTTP write them: ASCII digits only.

``str.isdigit`` also accepts "²" or "٣", which ``int`` then refuses (or reads as another digit): a
value from outside is a number only when every character is one of 0-9.
"""

from __future__ import annotations

ASCII_DIGITS = frozenset("0123456789")


def is_ascii_number(text: str) -> bool:
    """``text`` is a non-empty run of ASCII digits (what ``int`` reads as written)."""
    return text.isascii() and text.isdecimal()
