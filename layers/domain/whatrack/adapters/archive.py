"""S3 archive of raw webhook bodies, content-addressed."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from whatrack.adapters.aws import AWS_ERRORS, client, error_code, transient

PREFIX = "webhooks/sha256/"


def archive_key(raw: bytes) -> str:
    digest = hashlib.sha256(raw).hexdigest()
    return f"{PREFIX}{digest[:2]}/{digest}"


class S3ArchiveStore:
    def __init__(self, bucket: str, s3: Any | None = None) -> None:
        self._bucket = bucket
        self._s3 = s3

    @property
    def s3(self) -> Any:
        return self._s3 or client("s3")

    def put_raw(self, raw: bytes, *, received_at: datetime) -> str:
        """Write once: a redelivered body finds its object already there (no new version)."""
        key = archive_key(raw)
        try:
            self.s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=raw,
                ContentType="application/octet-stream",
                Metadata={"first-received-at": received_at.isoformat()},
                IfNoneMatch="*",
            )
        except AWS_ERRORS as exc:
            # 412: already archived (same bytes, same key); 409: a concurrent write of the same bytes.
            if error_code(exc) not in {"PreconditionFailed", "ConditionalRequestConflict", "412"}:
                raise transient("archive put", exc) from exc
        return key

    def get_raw(self, key: str) -> bytes:
        try:
            body = self.s3.get_object(Bucket=self._bucket, Key=key)["Body"]
            return bytes(body.read())
        except AWS_ERRORS as exc:
            raise transient("archive get", exc) from exc
