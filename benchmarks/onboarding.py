"""What the onboarding loop costs: AWS requests and Graph calls per connection, per watchdog round.

Counted on the emulation at the botocore level (what AWS would bill) and on the Meta simulator.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import boto3
from moto import mock_aws

from benchmarks import bench_environment
from benchmarks.chunk_import import counting
from devstack import moto_patches
from devstack.meta import running_simulator
from devstack.provision import provision
from devstack.runtime import LambdaContext
from functions.watchdog import app as watchdog_app
from tests.integration.harness import Onboarding

CONNECTIONS = 200


def _show(label: str, counts: Counter[str], graph_calls: int, seconds: float) -> None:
    aws = sum(counts.values())
    print(f"{label}: {aws} AWS requests, {graph_calls} Graph calls, {seconds * 1000:.0f} ms on the emulation")
    for operation, count in sorted(counts.items()):
        print(f"    {operation:40s} {count}")


def main() -> None:
    bench_environment()
    with running_simulator() as graph, mock_aws(), moto_patches.patched():
        stack = provision(None, environ={"GRAPH_API_BASE_URL": graph.base_url, "HISTORY_STALL_AFTER_SECONDS": "60"})
        os.environ.update(stack.environment)
        from whatrack import wiring

        wiring.reset()
        ob = Onboarding(stack)
        graph.business("401000000000001", "209000000000001", token="EAAG-bench")
        ob.connect_organization()
        body = {
            "phoneNumberId": "209000000000001",
            "wabaId": "401000000000001",
            "mode": "coexistence",
            "syncHistory": True,
            "accessToken": "EAAG-bench",
        }
        with counting() as counts:
            started = time.perf_counter()
            status, created = ob.api("POST", "/connections", body)
            elapsed = time.perf_counter() - started
        assert status == 201, created
        _show(
            "connect with a token (ownership check + contacts and history requests)", counts, len(graph.calls), elapsed
        )
        calls = len(graph.calls)
        with counting() as counts:
            started = time.perf_counter()
            status, _ = ob.api("POST", f"/connections/{created['connection']['id']}/history-sync/request")
            elapsed = time.perf_counter() - started
        assert status == 409
        _show("a second request (refused)", counts, len(graph.calls) - calls, elapsed)

        for index in range(CONNECTIONS - 1):
            ob.api(
                "POST",
                "/connections",
                {"phoneNumberId": f"2091{index:011d}", "wabaId": "401", "mode": "coexistence", "syncHistory": True},
            )
        # every connection waits for history past the threshold: the first round raises, the next does not
        table = boto3.client("dynamodb")
        for item in table.scan(
            TableName=stack.tables["AccountsTable"],
            FilterExpression="sk = :c",
            ExpressionAttributeValues={":c": {"S": "CONN"}},
        )["Items"]:
            table.update_item(
                TableName=stack.tables["AccountsTable"],
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET created_at = :t",
                ExpressionAttributeValues={":t": {"S": "2026-01-01T00:00:00.000000+0000"}},
            )
        for label in ("watchdog round raising every alert", "watchdog round with nothing new"):
            calls = len(graph.calls)
            with counting() as counts:
                started = time.perf_counter()
                report = watchdog_app.lambda_handler({}, LambdaContext("watchdog", 512, 120))
                elapsed = time.perf_counter() - started
            _show(f"{label} ({CONNECTIONS} connections, report {report})", counts, len(graph.calls) - calls, elapsed)


if __name__ == "__main__":
    main()
