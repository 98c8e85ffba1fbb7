"""Identifier helpers."""

from __future__ import annotations

import hashlib
import os
import time


def new_id() -> str:
    """A 26-character, time-ordered, URL-safe id (ULID layout, Crockford base32)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(alphabet[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def stable_id(*parts: object) -> str:
    """A deterministic id from ``parts`` (same input, same id): used for idempotent records."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:32]
