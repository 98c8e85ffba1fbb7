"""What a test (or ``scripts/chaos.py``) does to a running local stack from outside: HTTP calls as Meta,
the dashboard and an operator make them, and reads of its queues to know when it has settled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from devstack.server import LocalStack
from tests.waiting import subprocess_timeout, wait_until
from whatrack.webhooks.signature import sign

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "local-admin-key"
APP_SECRET = "local-app-secret"
QUEUE_COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


def request(
    stack: LocalStack, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(stack.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def api(
    stack: LocalStack,
    method: str,
    path: str,
    payload: Any = None,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    headers = {"content-type": "application/json", **(headers or {})}
    if key:
        headers["authorization"] = f"Bearer {key}"
    status, body, _ = request(stack, method, path, None if payload is None else json.dumps(payload).encode(), headers)
    return status, json.loads(body)


def post_webhook(stack: LocalStack, raw: bytes, secret: str = APP_SECRET) -> int:
    status, _, _ = request(
        stack, "POST", "/webhook", raw, {"content-type": "application/json", "x-hub-signature-256": sign(raw, secret)}
    )
    return status


def _sqs(stack: LocalStack) -> Any:
    return boto3.client("sqs", endpoint_url=stack.aws_endpoint, region_name="us-east-1")


def queue_depth(stack: LocalStack, logical: str) -> int:
    """Messages waiting or in flight in one queue (by its logical id in ``template.yaml``)."""
    assert stack.provisioned is not None
    url = stack.provisioned.queues[logical]
    attributes = _sqs(stack).get_queue_attributes(QueueUrl=url, AttributeNames=QUEUE_COUNTS)["Attributes"]
    return sum(int(value) for value in attributes.values())


def depths(stack: LocalStack) -> dict[str, int]:
    """Every queue's depth that is not zero (dead-letter queues included)."""
    assert stack.provisioned is not None
    return {logical: n for logical in stack.provisioned.queues if (n := queue_depth(stack, logical))}


def drained(stack: LocalStack) -> bool:
    """Every queue and dead-letter queue of the stack empty, nothing in flight."""
    return not depths(stack)


def wait_drained(stack: LocalStack, *, timeout: float | None = None) -> None:
    """Until every queue stays empty for three reads in a row (a record may be between two queues:
    a consumer's retry, a dead letter on its way back)."""
    wait_until(
        lambda: drained(stack),
        "every queue of the stack to drain",
        timeout=timeout,
        steady=3,
        seen=lambda: depths(stack),
    )


def run_demo(stack: LocalStack, demo_timeout: str, budget: float) -> subprocess.CompletedProcess[str]:
    """``scripts/demo.py`` against this running stack, as ``make demo`` runs it: its own wait ends after
    ``demo_timeout`` seconds, the child is stopped after ``budget`` (or what is left of the test's)."""
    path = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "domain")])
    env = {**os.environ, "PORT": str(stack.port), "POWERTOOLS_LOG_LEVEL": "WARNING", "PYTHONPATH": path}
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--timeout", demo_timeout],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=subprocess_timeout(budget),
    )
