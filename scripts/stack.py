"""Where an operator script acts: the running local stack (by default) or a deployed one.

The local stack is found like ``make demo`` finds it: ``127.0.0.1:$PORT`` (default 3000), whose
``GET /_devstack/stack`` (local only) names the AWS emulation's endpoint and the resources. A
deployed stack is named by ``--config-env dev|prod`` (stack and region from samconfig.toml) or
``--stack NAME --region REGION``; its outputs name the resources, and the caller's AWS credentials
are used. :func:`activate` then sets the environment the layer's settings read.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

import boto3

from scripts.publish_dashboard import from_samconfig, stack_outputs

STACK_PATH = "/_devstack/stack"
OUTPUT_ENVIRONMENT = {
    "AccountsTableName": "ACCOUNTS_TABLE_NAME",
    "InboxTableName": "INBOX_TABLE_NAME",
    "LogTableName": "LOG_TABLE_NAME",
    "ArchiveBucketName": "ARCHIVE_BUCKET_NAME",
    "HistoryQueueUrl": "HISTORY_QUEUE_URL",
    "ContactsQueueUrl": "CONTACTS_QUEUE_URL",
    "EchoesQueueUrl": "ECHOES_QUEUE_URL",
    "LiveMessagesQueueUrl": "LIVE_MESSAGES_QUEUE_URL",
    "AccountUpdatesQueueUrl": "ACCOUNT_UPDATES_QUEUE_URL",
    "ReplayQueueUrl": "REPLAY_QUEUE_URL",
}


@dataclass(frozen=True)
class Target:
    label: str
    environment: dict[str, str]
    """The functions' settings: table, bucket and queue names."""
    queues: dict[str, str]
    """Every queue by logical id (``HistoryDeadLetterQueue``, ...) → URL."""
    region: str
    endpoint: str | None = None
    """The AWS emulation of the local stack; ``None`` for AWS itself."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config-env", help="a deployed stack: samconfig.toml environment (dev, prod)")
    parser.add_argument("--stack", help="a deployed stack by name (with --region)")
    parser.add_argument("--region", help="the deployed stack's region")


def locate(args: argparse.Namespace) -> Target:
    if args.config_env:
        stack, region = from_samconfig(args.config_env)
        return deployed(stack, region)
    if args.stack:
        return deployed(args.stack, args.region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    return local(int(os.environ.get("PORT", "3000")))


def local(port: int) -> Target:
    base = f"http://127.0.0.1:{port}"
    try:
        with urllib.request.urlopen(base + STACK_PATH, timeout=5) as response:  # noqa: S310 - loopback only
            described = json.loads(response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(f"no local stack on {base} ({exc}): start it with `make run` (or pass --config-env)") from exc
    return Target(
        label=f"local stack {base}",
        environment=dict(described["environment"]),
        queues=dict(described["queues"]),
        region=str(described["region"]),
        endpoint=str(described["awsEndpoint"]),
    )


def deployed(stack: str, region: str) -> Target:
    outputs = stack_outputs(boto3.client("cloudformation", region_name=region), stack)
    missing = sorted(k for k in OUTPUT_ENVIRONMENT if k not in outputs)
    if missing:
        raise SystemExit(f"stack {stack} has no {', '.join(missing)} output: deploy the current template.yaml first")
    return Target(
        label=f"stack {stack} ({region})",
        environment={env: outputs[key] for key, env in OUTPUT_ENVIRONMENT.items()},
        queues={key.removesuffix("Url"): value for key, value in outputs.items() if key.endswith("QueueUrl")},
        region=region,
    )


def activate(target: Target) -> None:
    """Point this process (boto3, PynamoDB, the layer's settings) at ``target``."""
    os.environ.update(target.environment)
    os.environ["AWS_DEFAULT_REGION"] = target.region
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    if target.endpoint is not None:
        os.environ["AWS_ENDPOINT_URL"] = target.endpoint
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    from whatrack import wiring

    wiring.reset()
