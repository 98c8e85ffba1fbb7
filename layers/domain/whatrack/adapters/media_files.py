"""Our bucket of media files: streamed in, hashed on the way, multipart once a file outgrows one part.

A file smaller than a part is one ``PutObject``; a larger one is a multipart upload of parts of
``PART_BYTES`` (at most two parts in memory: the one being filled and the one being sent, which
travels while the next is read), aborted
if anything fails or the stream passes ``max_bytes``, so no half-file is ever left behind. The
object carries the type it is served with and, for anything not served inline, an attachment
disposition, so the bytes are never rendered from our origin (CONTRACT §7 Media).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from whatrack.adapters.aws import AWS_ERRORS, client, transient
from whatrack.domain.media import ATTACHMENT_TYPE, FileTooLargeError, KeptFile

PART_BYTES = 8 * 1024 * 1024
"""S3 wants parts of at least 5 MiB (the last one aside)."""


def disposition(content_type: str, filename: str | None) -> str | None:
    """``attachment`` (with the file's name) for anything not served inline."""
    if content_type != ATTACHMENT_TYPE:
        return None
    if not filename:
        return "attachment"
    ascii_name = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class S3MediaFiles:
    def __init__(self, bucket: str, s3: Any | None = None, part_bytes: int = PART_BYTES) -> None:
        self._bucket = bucket
        self._s3 = s3
        self._part_bytes = part_bytes

    @property
    def s3(self) -> Any:
        return self._s3 or client("s3")

    def put(
        self, key: str, blocks: Iterator[bytes], *, content_type: str, filename: str | None, max_bytes: int
    ) -> KeptFile:
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload: _Multipart | None = None
        headers: dict[str, Any] = {"ContentType": content_type}
        if (shown := disposition(content_type, filename)) is not None:
            headers["ContentDisposition"] = shown
        try:
            for block in blocks:
                size += len(block)
                if size > max_bytes:
                    raise FileTooLargeError(f"more than {max_bytes} bytes")
                digest.update(block)
                buffer += block
                while len(buffer) >= self._part_bytes:
                    upload = upload or _Multipart(self.s3, self._bucket, key, headers)
                    upload.send(bytes(buffer[: self._part_bytes]))
                    del buffer[: self._part_bytes]
            if upload is None:
                self._put_whole(key, bytes(buffer), headers)
            else:
                if buffer:
                    upload.send(bytes(buffer))
                upload.complete()
        except BaseException:
            if upload is not None:
                upload.abort()
            raise
        return KeptFile(key=key, sha256=digest.hexdigest(), size=size)

    def _put_whole(self, key: str, body: bytes, headers: dict[str, Any]) -> None:
        try:
            self.s3.put_object(Bucket=self._bucket, Key=key, Body=body, **headers)
        except AWS_ERRORS as exc:
            raise transient("media put", exc) from exc

    def delete(self, key: str) -> None:
        try:
            self.s3.delete_object(Bucket=self._bucket, Key=key)
        except AWS_ERRORS as exc:
            raise transient("media delete", exc) from exc


class _Multipart:
    """One part on its way to S3 while the next is read and hashed (hashlib and the socket release the
    GIL): the download and the upload overlap instead of taking turns. At most one part in flight."""

    def __init__(self, s3: Any, bucket: str, key: str, headers: dict[str, Any]) -> None:
        self._s3, self._bucket, self._key = s3, bucket, key
        try:
            self._id = s3.create_multipart_upload(Bucket=bucket, Key=key, **headers)["UploadId"]
        except AWS_ERRORS as exc:
            raise transient("media upload start", exc) from exc
        self._parts: list[dict[str, Any]] = []
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="media-part")
        self._in_flight: Future[dict[str, Any]] | None = None

    def send(self, body: bytes) -> None:
        self._settle()  # the previous part first: one in flight, and a failure surfaces at once
        self._in_flight = self._sender.submit(self._upload, len(self._parts) + 1, body)

    def _upload(self, number: int, body: bytes) -> dict[str, Any]:
        try:
            answer = self._s3.upload_part(
                Bucket=self._bucket, Key=self._key, UploadId=self._id, PartNumber=number, Body=body
            )
        except AWS_ERRORS as exc:
            raise transient("media upload part", exc) from exc
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _settle(self) -> None:
        if self._in_flight is not None:
            sent, self._in_flight = self._in_flight, None
            self._parts.append(sent.result())

    def complete(self) -> None:
        self._settle()
        self._sender.shutdown()
        try:
            self._s3.complete_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._id, MultipartUpload={"Parts": self._parts}
            )
        except AWS_ERRORS as exc:
            raise transient("media upload complete", exc) from exc

    def abort(self) -> None:
        # the part in flight ends first (an abort before it would leave it behind), then best effort:
        # the bucket's lifecycle rule removes incomplete uploads after a day
        self._sender.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(*AWS_ERRORS):
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._id)
