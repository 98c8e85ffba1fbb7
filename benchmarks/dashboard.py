"""What the dashboard costs: AWS requests per screen read, and per minute of an open tab.

The instance list re-reads ``GET /connections`` every 2 s while a sync runs (D-22), so its cost is
paid ~30 times a minute per open tab; the other screens are read once per visit (or per action).
Counted on the emulation at the botocore level (what AWS would bill), on an organization with one
complete onboarding (contacts, three chunks, live messages, echoes) and then more connections.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from benchmarks import bench_environment
from benchmarks.chunk_import import counting
from devstack import moto_patches
from devstack.provision import provision
from devstack.runtime import LambdaContext
from functions.status_api import app as status_app
from tests.builders import payloads as b
from tests.builders.events import http_event
from tests.integration.harness import Onboarding
from tests.integration.test_concurrency_and_properties import onboarding_events

POLLS_PER_MINUTE = 30  # every 2 s while a sync runs


def read(key: str, path: str, query: str = "") -> tuple[Counter[str], float, Any]:
    headers = {"authorization": f"Bearer {key}"}
    with counting() as counts:
        started = time.perf_counter()
        result = status_app.lambda_handler(
            http_event("GET", path, query=query, headers=headers), LambdaContext("s", 512, 20)
        )
        elapsed = time.perf_counter() - started
    assert result["statusCode"] == 200, result["body"]
    return counts, elapsed, json.loads(result["body"])


def _show(label: str, counts: Counter[str], seconds: float) -> None:
    detail = ", ".join(f"{operation.split(':')[1]} {count}" for operation, count in sorted(counts.items()))
    print(f"{label:58s} {sum(counts.values()):3d} AWS requests ({detail}); {seconds * 1000:.0f} ms on the emulation")


@contextmanager
def onboarded(live_messages: int = 0) -> Iterator[tuple[Onboarding, dict[str, Any]]]:
    """An organization with one complete onboarding (contacts, three chunks, live messages, echoes) and
    ``live_messages`` more live customers, on moto in this process; the environment given back after."""
    saved = dict(os.environ)
    try:
        bench_environment()
        logging.disable(logging.WARNING)  # the handlers' loggers were made at import, at INFO
        with mock_aws(), moto_patches.patched():
            stack = provision(None, environ={"POWERTOOLS_LOG_LEVEL": "ERROR"})
            os.environ.update(stack.environment)
            from whatrack import wiring

            wiring.reset()
            ob = Onboarding(stack)
            connection = ob.connect()
            for event in onboarding_events():
                ob.deliver(event)
            for index in range(live_messages):
                ob.deliver(b.live(f"wamid.bench{index}", f"551197777{index:04d}", 1751500000 + index))
            yield ob, connection
    finally:
        logging.disable(logging.NOTSET)
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    with onboarded(live_messages=5) as (ob, connection):
        key = ob.api_key
        connection_id = connection["id"]
        print("one connection, its onboarding done:")
        counts, elapsed, _ = read(key, "/connections")
        _show("  GET /connections (the instance list, polled)", counts, elapsed)
        list_requests = {1: sum(counts.values())}
        counts, elapsed, _ = read(key, f"/connections/{connection_id}")
        _show("  GET /connections/{id} (the details' card, polled)", counts, elapsed)
        details_requests = sum(counts.values())
        counts, elapsed, _ = read(key, f"/connections/{connection_id}/history-sync")
        _show("  GET /connections/{id}/history-sync (polled with the card)", counts, elapsed)
        details_requests += sum(counts.values())
        counts, elapsed, _ = read(key, f"/connections/{connection_id}/logs", "limit=50")
        _show("  GET /connections/{id}/logs?limit=50", counts, elapsed)
        counts, elapsed, tickets = read(key, "/tickets", f"connectionId={connection_id}")
        _show("  GET /tickets?connectionId=", counts, elapsed)
        counts, elapsed, _ = read(key, "/leads", f"connectionId={connection_id}")
        _show("  GET /leads?connectionId=", counts, elapsed)
        ticket = next(t for t in tickets["tickets"] if t["originatedFrom"] == "history_lead")
        counts, elapsed, _ = read(key, f"/tickets/{ticket['id']}")
        _show("  GET /tickets/{id} (the whole conversation)", counts, elapsed)
        created = 1
        for total in (10, 50):
            while created < total:
                status, body = ob.api(
                    "POST",
                    "/connections",
                    {"phoneNumberId": f"2092{created:011d}", "wabaId": "401", "mode": "coexistence"},
                )
                assert status == 201, body
                created += 1
            counts, elapsed, listed = read(key, "/connections")
            assert len(listed["connections"]) == total
            list_requests[total] = sum(counts.values())
            _show(f"GET /connections with {total} connections", counts, elapsed)
        print(
            "an open instance list while a sync runs: "
            + ", ".join(f"{n} connection(s) {r * POLLS_PER_MINUTE} requests/min" for n, r in list_requests.items())
        )
        print(f"an open details page while its sync runs: {details_requests * POLLS_PER_MINUTE} requests/min")


if __name__ == "__main__":
    main()
