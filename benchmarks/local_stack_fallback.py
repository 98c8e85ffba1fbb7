"""The local stack's two keys, measured minimally (used while ``benchmarks.local_stack`` does not exist).

``make run``'s stack is started in this process (``devstack.server.LocalStack`` on a free port, its
own moto server and SQS pollers), an organization and a connection are created over HTTP, and
chunks of 200 threads x 20 messages (4,000 messages) are posted signed to ``/webhook``; each chunk's
time runs from the POST until the connection's ``messagesImported`` has grown by 4,000.

A chunk that is not imported within ``cap_s`` is stopped there: its value is the time extrapolated
from the rate reached (``elapsed x 4000 / imported``), flagged ``finished: false``. The growth (5th
chunk over 1st, in one run, on a second fresh stack) uses chunks of ``small`` messages (20 threads) so
that five fit in the budget: the 4,000-message chunk alone takes minutes on today's emulation.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from benchmarks.generator import body_bytes, uniform_chunk
from whatrack.webhooks.signature import sign


def _call(url: str, method: str, payload: Any = None, key: str = "", raw: bytes | None = None) -> Any:
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    data = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
    if raw is not None:
        headers["x-hub-signature-256"] = sign(raw, "local-app-secret")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - 127.0.0.1
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def _post_chunk(
    base: str, key: str, connection: str, document: dict[str, Any], messages: int, cap_s: float
) -> dict[str, Any]:
    def imported() -> int:
        return int(
            _call(f"{base}/connections/{connection}", "GET", key=key)["connection"]["historySync"]["messagesImported"]
        )

    before = imported()
    started = time.perf_counter()
    _call(f"{base}/webhook", "POST", raw=body_bytes(document))
    done = 0
    while True:
        done = imported() - before
        elapsed = time.perf_counter() - started
        if done >= messages:
            return {"seconds": elapsed, "finished": True, "imported": done}
        if elapsed > cap_s:
            rate = done / elapsed if done else 0.0
            return {
                "seconds": messages / rate if rate else float("inf"),
                "finished": False,
                "imported": done,
                "after_s": elapsed,
            }
        time.sleep(0.25)


def measure(cap_s: float = 40.0, small: int = 100, quick: bool = False) -> dict[str, Any]:
    """``{"local_stack_4000_msg_chunk_seconds", "local_stack_growth_5th_vs_1st"}`` (plus details)."""
    threads, per = (20, 10) if quick else (200, 20)
    first = (
        None if quick else _on_fresh_stack(lambda run: run(uniform_chunk(threads, per, seed=1), threads * per, cap_s))
    )
    per_small = max(1, small // 20)
    runs = _on_fresh_stack(
        lambda run: [run(uniform_chunk(20, per_small, seed=10 + s), 20 * per_small, cap_s * 2) for s in range(5)]
    )
    if first is None:
        first = runs[0]
    growth = runs[-1]["seconds"] / runs[0]["seconds"]
    return {
        "local_stack_4000_msg_chunk_seconds": first["seconds"],
        "local_stack_growth_5th_vs_1st": growth,
        "details": {
            "first_chunk": first,
            "growth_chunk_messages": 20 * per_small,
            "growth_runs_seconds": [r["seconds"] for r in runs],
            "growth_runs_finished": [r["finished"] for r in runs],
            "chunk_messages": threads * per,
            "source": "benchmarks.local_stack_fallback",
        },
    }


def _on_fresh_stack(work: Callable[[Callable[[dict[str, Any], int, float], dict[str, Any]]], Any]) -> Any:
    """A fresh local stack with one connection; ``work`` gets ``run(document, messages, cap_s)``."""
    from devstack.server import LocalStack

    saved = dict(os.environ)
    stack = LocalStack(port=0, visibility_timeout_override=5)
    stack.start()
    try:
        base = stack.url
        org = _call(f"{base}/admin/organizations", "POST", {"name": "Bench"}, "local-admin-key")
        key = org["apiKey"]
        body = {
            "phoneNumberId": "209988776655443",
            "wabaId": "401122334455667",
            "displayPhoneNumber": "5491155550100",
            "mode": "coexistence",
            "syncHistory": True,
            "displayName": "Bench",
        }
        connection = _call(f"{base}/connections", "POST", body, key)["connection"]["id"]
        return work(lambda document, messages, cap: _post_chunk(base, key, connection, document, messages, cap))
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
