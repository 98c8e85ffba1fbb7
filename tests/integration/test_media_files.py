"""Our bucket of media files under moto (issue 21): a large file goes up in parts, byte for byte, and a
failure or an oversize stream leaves no object and no open upload behind."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import boto3
import pytest

from devstack.provision import Provisioned
from whatrack.adapters.media_files import S3MediaFiles
from whatrack.domain.media import FileTooLargeError

PART = 5 * 1024 * 1024  # S3's smallest part
BLOCK = 256 * 1024


def blocks(content: bytes, fail_after: int | None = None) -> Iterator[bytes]:
    for start in range(0, len(content), BLOCK):
        if fail_after is not None and start >= fail_after:
            raise ConnectionResetError("Meta's download dropped")
        yield content[start : start + BLOCK]


def open_uploads(bucket: str) -> list[str]:
    return [u["Key"] for u in boto3.client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_a_large_file_goes_up_in_parts_byte_for_byte(aws: Provisioned) -> None:
    bucket = aws.buckets["MediaBucket"]
    content = os.urandom(12 * 1024 * 1024 + 12_345)  # two full parts and a short last one
    files = S3MediaFiles(bucket, part_bytes=PART)
    kept = files.put("media/c/large", blocks(content), content_type="video/mp4", filename=None, max_bytes=50 << 20)
    assert (kept.size, kept.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    stored = boto3.client("s3").get_object(Bucket=bucket, Key="media/c/large")
    assert stored["ContentType"] == "video/mp4" and stored["Body"].read() == content
    assert open_uploads(bucket) == []


def test_a_download_that_drops_mid_file_leaves_nothing(aws: Provisioned) -> None:
    bucket = aws.buckets["MediaBucket"]
    content = os.urandom(11 * 1024 * 1024)
    files = S3MediaFiles(bucket, part_bytes=PART)
    with pytest.raises(ConnectionResetError):
        files.put("media/c/dropped", blocks(content, fail_after=7 << 20), content_type="video/mp4", filename=None,
                  max_bytes=50 << 20)  # fmt: skip
    assert open_uploads(bucket) == []
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="media/c/dropped")


def test_a_stream_past_the_limit_is_too_large_and_leaves_nothing(aws: Provisioned) -> None:
    bucket = aws.buckets["MediaBucket"]
    content = os.urandom(9 * 1024 * 1024)
    files = S3MediaFiles(bucket, part_bytes=PART)
    with pytest.raises(FileTooLargeError):
        files.put("media/c/big", blocks(content), content_type="application/pdf", filename="a.pdf", max_bytes=8 << 20)
    assert open_uploads(bucket) == []
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="media/c/big")
