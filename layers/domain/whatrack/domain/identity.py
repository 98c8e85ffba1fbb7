"""Contact identity: E.164 phone numbers (with Brazil's ninth digit) and Meta user ids (BSUIDs).

A person is one lead per organization. Meta sends Brazilian mobiles both with and without the
ninth digit (``55 11 9xxxx-xxxx`` and, as ``wa_id``, ``55 11 xxxx-xxxx``); both map to the same
canonical number, the nine-digit form, which is also the lead's ``phoneNumber``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from whatrack.domain.numbers import ASCII_DIGITS

BRAZIL = 55


@lru_cache(maxsize=4096)
def canonical_phone(raw: str | None) -> str | None:
    """E.164 (``+5511966660001``) for a Meta number (digits, maybe with ``+``/punctuation), else ``None``.

    Cached: a chunk names the same few numbers on every message (the business's, its customers')."""
    if raw is None:
        return None
    digits = "".join(ch for ch in str(raw) if ch in ASCII_DIGITS)
    if len(digits) < 8 or len(digits) > 15:
        return None
    # Brazil: 55 + 2-digit area code + 8-digit mobile (starts 6-9) is the old form of a 9-digit mobile.
    if digits.startswith("55") and len(digits) == 12 and digits[4] in "6789":
        digits = digits[:4] + "9" + digits[4:]
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class ContactIdentity:
    """What a webhook tells us about a counterpart: at least one of phone or user id."""

    phone: str | None = None  # canonical E.164
    wa_id: str | None = None  # as Meta sent it
    user_id: str | None = None  # BSUID
    name: str | None = None

    @classmethod
    def of(cls, *, wa_id: str | None = None, user_id: str | None = None, name: str | None = None) -> ContactIdentity:
        wa = (wa_id or "").strip() or None
        uid = (user_id or "").strip() or None
        return cls(phone=canonical_phone(wa), wa_id=wa, user_id=uid, name=(name or "").strip() or None)

    @property
    def known(self) -> bool:
        return self.phone is not None or self.user_id is not None


def same_number(a: str | None, b: str | None) -> bool:
    """True when two Meta numbers are the same phone (business-number checks for direction)."""
    ca, cb = canonical_phone(a), canonical_phone(b)
    return ca is not None and ca == cb
