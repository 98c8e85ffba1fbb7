"""Publish the dashboard to its bucket after ``sam deploy`` (``make deploy`` runs it).

Reads the stack's outputs (``DashboardBucketName``, ``DashboardDistributionId``,
``DashboardConfig``), uploads ``dashboard/`` with content types and cache headers, writes
``config.json`` from the stack (the Meta app id and Embedded Signup configuration of this
deployment), removes files that are no longer part of the dashboard, and invalidates CloudFront's
copy so the next visit gets the new version.

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
    target = target_from_outputs(stack_outputs(session.client("cloudformation"), stack))
    done = publish(session.client("s3"), session.client("cloudfront"), target)
    print(
        f"dashboard published to s3://{target.bucket}: {len(done.uploaded)} file(s), {len(done.removed)} removed; "
        f"CloudFront invalidation {done.invalidation_id}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
