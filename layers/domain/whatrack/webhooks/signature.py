"""``X-Hub-Signature-256`` verification over the raw request bytes."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(raw: bytes, secret: str) -> str:
    """The header value Meta sends for ``raw`` (used by tests, events and the demo)."""
    return PREFIX + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify(raw: bytes, header: str | None, secret: str) -> bool:
    """True when ``header`` is the HMAC-SHA256 of exactly ``raw`` keyed with ``secret``.

    Compared in constant time; never computed over re-serialized JSON (Meta escapes non-ASCII as
    ``\\uXXXX``, so a parse/dump round trip changes the bytes).
    """
    if not header or not secret:
        return False
    header = header.strip()
    if not header.lower().startswith(PREFIX):
        return False
    expected = sign(raw, secret)
    return hmac.compare_digest(expected.encode(), (PREFIX + header[len(PREFIX) :].lower()).encode())
