"""Media files the simulator holds, as Meta serves them: ``GET /{media-id}`` answers a short-lived URL,
the URL answers the bytes to the same bearer token.

What Meta does and the simulator copies (``shared/reference/meta-media-and-sending.md`` §1): a media id
received in a webhook can be fetched for 7 days, then Graph answers code 100 / subcode 33; the URL is
valid 5 minutes, then it answers a plain 404 (ask for a new one); the file needs the same token. Files
can be given as bytes or only by size (then their bytes are made up, streamed in blocks: a 100 MB file
never sits whole in memory here either).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from devstack.meta.accounts import Accounts
from devstack.meta.answers import Scripted, invalid_token, media_expired, ok, url_gone
from whatrack.domain.numbers import is_ascii_number

DOWNLOAD_PATH = "/whatsapp_business/attachments/"
MEDIA_ID_LIFETIME_SECONDS = 7 * 86_400
URL_LIFETIME_SECONDS = 300
BLOCK = 64 * 1024


@dataclass
class MediaFile:
    id: str
    mime_type: str
    size: int
    sha256_hex: str
    created_at: float
    phone_number_id: str | None
    content: bytes | None = None

    def blocks(self) -> Iterator[bytes]:
        if self.content is not None:
            for start in range(0, len(self.content), BLOCK):
                yield self.content[start : start + BLOCK]
            return
        yield from _made_up(self.id, self.size)

    @property
    def sha256_base64(self) -> str:
        """The digest as live webhooks carry it (base64; history's example carries hex)."""
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode()


def _made_up(seed: str, size: int) -> Iterator[bytes]:
    pattern = (hashlib.sha256(seed.encode()).digest() * (BLOCK // 32 + 1))[:BLOCK]
    left = size
    while left > 0:
        yield pattern[: min(left, BLOCK)]
        left -= BLOCK


@dataclass
class MediaStore:
    accounts: Accounts
    base_url: Callable[[], str]
    clock: Callable[[], float] = time.time
    files: dict[str, MediaFile] = field(default_factory=dict)
    expired: set[str] = field(default_factory=set)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _count: int = 0

    def add(
        self,
        content: bytes | None = None,
        *,
        mime_type: str = "image/jpeg",
        size: int | None = None,
        phone_number_id: str | None = None,
        media_id: str | None = None,
        age_seconds: float = 0.0,
    ) -> MediaFile:
        """A file Meta holds (as if a customer had sent it ``age_seconds`` ago): ``content``, or
        ``size`` made-up bytes."""
        if content is None and size is None:
            raise ValueError("give the file's content or its size")
        digest = hashlib.sha256()
        length = 0
        with self._lock:
            self._count += 1
            identifier = media_id or f"{1_000_000_000_000_000 + self._count}"
        probe = MediaFile(identifier, mime_type, 0, "", 0.0, phone_number_id, content)
        if content is None:
            probe.size = int(size or 0)
        for block in probe.blocks():
            digest.update(block)
            length += len(block)
        file = MediaFile(
            identifier,
            mime_type,
            length,
            digest.hexdigest(),
            self.clock() - age_seconds,
            phone_number_id,
            content,
        )
        with self._lock:
            self.files[identifier] = file
            self.expired.discard(identifier)
        return file

    def expire(self, media_id: str) -> None:
        """Meta forgets the id (as after its 7 days)."""
        with self._lock:
            self.expired.add(media_id)

    # ------------------------------------------------------------------ the calls
    def url_of(self, authorization: str | None, media_id: str) -> Scripted:
        token = self.accounts.token_of(authorization)
        if token is None:
            return invalid_token()
        file = self.files.get(media_id)
        if file is None or media_id in self.expired or self.clock() - file.created_at > MEDIA_ID_LIFETIME_SECONDS:
            return media_expired(media_id)
        if file.phone_number_id is not None and not self.accounts.can_read(token, file.phone_number_id):
            return media_expired(media_id)  # another business's file: Graph says it does not exist
        expires = int(self.clock()) + URL_LIFETIME_SECONDS
        query = urlencode({"mid": media_id, "ext": expires, "hash": self._signature(media_id, expires)})
        return ok(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url()}{DOWNLOAD_PATH}?{query}",
                "mime_type": file.mime_type,
                "sha256": file.sha256_hex,
                "file_size": str(file.size),
                "id": file.id,
            }
        )

    def download(self, authorization: str | None, query: dict[str, str]) -> Scripted:
        media_id, expires = query.get("mid", ""), query.get("ext", "")
        valid = is_ascii_number(expires) and hmac.compare_digest(
            query.get("hash", ""), self._signature(media_id, int(expires))
        )
        file = self.files.get(media_id)
        if not valid or file is None or int(expires) < self.clock() or media_id in self.expired:
            return url_gone()
        token = self.accounts.token_of(authorization)
        if token is None or (
            file.phone_number_id is not None and not self.accounts.can_read(token, file.phone_number_id)
        ):
            return invalid_token()
        return Scripted(200, chunks=file.blocks(), length=file.size, content_type=file.mime_type)

    def _signature(self, media_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def describe(self, file: MediaFile) -> dict[str, Any]:
        return {"id": file.id, "mimeType": file.mime_type, "size": file.size, "sha256": file.sha256_hex}
