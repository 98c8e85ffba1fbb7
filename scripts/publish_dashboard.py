"""Publish the dashboard to its bucket after ``sam deploy`` (``make deploy`` runs it).

Reads the stack's outputs (``DashboardBucketName``, ``DashboardDistributionId``,
``DashboardConfig``), uploads ``dashboard/`` with content types and cache headers, writes
``config.json`` from the stack (the Meta app id and Embedded Signup configuration of this
deployment), removes files that are no longer part of the dashboard, and invalidates CloudFront's
copy so the next visit gets the new version. Then copies the key of ``MediaUrlSecret`` into the key
value store the distribution's ``media.url`` function reads (``MediaUrlSecretArn``,
``MediaUrlKeyValueStoreArn``; D-44) when it is not there yet or differs (a rotated secret: run it
again). The key value store API is signed with SigV4A, which needs botocore's CRT (``awscrt``).

    python scripts/publish_dashboard.py --config-env dev     # stack and region from samconfig.toml
    python scripts/publish_dashboard.py --stack NAME --region REGION
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from devstack.http_front import content_type

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "dashboard"
CONFIG_KEY = "config.json"
# Every file is revalidated on each visit (an ETag round trip): the modules keep their names
# between releases (no build step, no hashes), and a browser mixing an old module with a new one
# would fail to load the page.
NO_CACHE = "no-cache"


@dataclass(frozen=True)
class Target:
    bucket: str
    distribution_id: str
    config: dict[str, Any]


@dataclass(frozen=True)
class Published:
    uploaded: list[str]
    removed: list[str]
    invalidation_id: str


MEDIA_URL_KEY = "media-url-key"
"""The key value store's key the ``media.url`` function reads (``infra/cloudfront/media_url.js``)."""


@dataclass(frozen=True)
class MediaUrlKeyTarget:
    secret_arn: str
    key_value_store_arn: str


def media_url_key_target(outputs: dict[str, str]) -> MediaUrlKeyTarget | None:
    """Where the ``media.url`` key comes from and goes; ``None`` for a stack from before D-44 (it
    serves no media through its distribution)."""
    if "MediaUrlSecretArn" not in outputs or "MediaUrlKeyValueStoreArn" not in outputs:
        return None
    return MediaUrlKeyTarget(outputs["MediaUrlSecretArn"], outputs["MediaUrlKeyValueStoreArn"])


def media_url_key_step(secretsmanager: Any, keyvaluestore: Any, target: MediaUrlKeyTarget) -> str:
    """Copy ``MediaUrlSecret``'s key into the function's key value store when it differs; answers
    what was done (``"written"``, ``"replaced"`` or ``"unchanged"``), never the key."""
    secret = json.loads(secretsmanager.get_secret_value(SecretId=target.secret_arn)["SecretString"])
    key = secret.get("key") if isinstance(secret, dict) else None
    if not isinstance(key, str) or not key:
        raise SystemExit(f"the secret {target.secret_arn} has no 'key': media.url cannot be signed")
    try:
        current = keyvaluestore.get_key(KvsARN=target.key_value_store_arn, Key=MEDIA_URL_KEY)["Value"]
    except keyvaluestore.exceptions.ResourceNotFoundException:
        current = None
    if current == key:
        return "unchanged"
    etag = keyvaluestore.describe_key_value_store(KvsARN=target.key_value_store_arn)["ETag"]
    keyvaluestore.put_key(KvsARN=target.key_value_store_arn, Key=MEDIA_URL_KEY, Value=key, IfMatch=etag)
    return "written" if current is None else "replaced"


KEY_STEP_DONE = {
    "written": "copied from MediaUrlSecret into",
    "replaced": "MediaUrlSecret's key changed: replaced in",
    "unchanged": "already in",
}


def can_sign_key_value_store_calls() -> bool:
    """The key value store API is signed with SigV4A: botocore needs its CRT (``awscrt``)."""
    from botocore.compat import HAS_CRT

    return bool(HAS_CRT)


def target_from_outputs(outputs: dict[str, str]) -> Target:
    missing = [n for n in ("DashboardBucketName", "DashboardDistributionId", "DashboardConfig") if n not in outputs]
    if missing:
        raise SystemExit(f"the stack has no {', '.join(missing)} output: deploy the current template.yaml first")
    return Target(
        bucket=outputs["DashboardBucketName"],
        distribution_id=outputs["DashboardDistributionId"],
        config=json.loads(outputs["DashboardConfig"]),
    )


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def files(source: Path) -> dict[str, Path]:
    """The dashboard's files by object key; hidden files and a local config.json are never published."""
    found = {}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        hidden = any(part.startswith(".") for part in relative.parts)
        if path.is_file() and not hidden and relative.as_posix() != CONFIG_KEY:
            found[relative.as_posix()] = path
    return found


def publish(s3: Any, cloudfront: Any, target: Target, source: Path = SOURCE) -> Published:
    local = files(source)
    if "index.html" not in local:
        raise SystemExit(f"{source} has no index.html")
    for key, path in local.items():
        s3.put_object(
            Bucket=target.bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=content_type(key),
            CacheControl=NO_CACHE,
        )
    s3.put_object(
        Bucket=target.bucket,
        Key=CONFIG_KEY,
        Body=json.dumps(target.config, separators=(",", ":")).encode(),
        ContentType="application/json",
        CacheControl=NO_CACHE,
    )
    keep = {*local, CONFIG_KEY}
    stale = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=target.bucket)
        for item in page.get("Contents", [])
        if item["Key"] not in keep
    ]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(
            Bucket=target.bucket, Delete={"Objects": [{"Key": key} for key in stale[start : start + 1000]]}
        )
    invalidation = cloudfront.create_invalidation(
        DistributionId=target.distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"publish-{time.time_ns()}"},
    )
    return Published(sorted(keep), sorted(stale), invalidation["Invalidation"]["Id"])


def from_samconfig(config_env: str, path: Path = ROOT / "samconfig.toml") -> tuple[str, str]:
    """The stack name and region ``sam deploy --config-env`` uses."""
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    section = config.get(config_env, {})
    stack = section.get("global", {}).get("parameters", {}).get("stack_name")
    region = section.get("deploy", {}).get("parameters", {}).get("region")
    if not stack or not region:
        raise SystemExit(f"samconfig.toml has no stack_name and region for the {config_env!r} environment")
    return str(stack), str(region)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-env", help="samconfig.toml environment (dev, prod)")
    parser.add_argument("--stack", help="CloudFormation stack name")
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    if args.config_env:
        stack, region = from_samconfig(args.config_env)
    elif args.stack and args.region:
        stack, region = args.stack, args.region
    else:
        parser.error("give --config-env, or --stack and --region")
    session = boto3.session.Session(region_name=region)
    outputs = stack_outputs(session.client("cloudformation"), stack)
    target = target_from_outputs(outputs)
    media = media_url_key_target(outputs)
    if media is not None and not can_sign_key_value_store_calls():
        raise SystemExit(
            "the media.url key goes into a CloudFront key value store, whose API needs botocore's CRT "
            "(SigV4A): pip install awscrt (into this script's environment), then run it again"
        )
    done = publish(session.client("s3"), session.client("cloudfront"), target)
    print(
        f"dashboard published to s3://{target.bucket}: {len(done.uploaded)} file(s), {len(done.removed)} removed; "
        f"CloudFront invalidation {done.invalidation_id}"
    )
    if media is None:
        print("media.url key: the stack has no MediaUrlKeyValueStoreArn output (no media through CloudFront)")
        return 0
    outcome = media_url_key_step(session.client("secretsmanager"), session.client("cloudfront-keyvaluestore"), media)
    print(f"media.url key: {KEY_STEP_DONE[outcome]} the key value store {media.key_value_store_arn}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
