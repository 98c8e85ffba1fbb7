"""``media.url`` on the local stack: what the dashboard's CDN serves in AWS (CONTRACT §7 Media).

``GET /media/<object key>?exp=<unix end>&sig=<HMAC>``: the signature and the end are checked with
the stack's media URL key (``403`` otherwise), then the object is streamed from the emulated bucket
in blocks with the type and disposition it was stored with, ``X-Content-Type-Options: nosniff`` and
a sandboxing policy, so nothing served from here can run as a page of our origin. A ``Range`` is
answered ``206`` as S3 and CloudFront answer it: a player reads a voice note's end for its duration,
and seeks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from whatrack.domain.media import media_url_valid

PREFIX = "/media/"
_ONE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
BLOCK = 256 * 1024
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=300",
    "Referrer-Policy": "no-referrer",
}


class LocalMediaServer:
    def __init__(self, s3: Any, bucket: str, key: Callable[[], str]) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = key

    def answer(self, path: str, query: str, byte_range: str | None = None) -> tuple[int, dict[str, str], int, Any]:
        """``(status, headers, length, body)``: ``body`` is the object's stream (or ``None``)."""
        key = unquote(path[len(PREFIX) :])
        params = parse_qs(query)
        expires, signature = params.get("exp", [""])[0], params.get("sig", [""])[0]
        if not key or not media_url_valid(key, expires, signature, self._key(), datetime.now(UTC)):
            return 403, {"Content-Type": "application/json"}, 0, None
        asked = {"Range": byte_range} if byte_range and _ONE_RANGE.match(byte_range.strip()) else {}
        try:
            found = self._s3.get_object(Bucket=self._bucket, Key=key, **asked)
        except self._s3.exceptions.NoSuchKey:
            return 404, {"Content-Type": "application/json"}, 0, None
        except self._s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") != "InvalidRange":
                raise
            return 416, {"Content-Type": "application/json"}, 0, None
        headers = {"Content-Type": found.get("ContentType") or "application/octet-stream", "Accept-Ranges": "bytes"}
        headers.update(HEADERS)
        if found.get("ContentDisposition"):
            headers["Content-Disposition"] = found["ContentDisposition"]
        status = 200
        if asked and found.get("ContentRange"):
            status, headers["Content-Range"] = 206, found["ContentRange"]
        return status, headers, int(found["ContentLength"]), found["Body"]
