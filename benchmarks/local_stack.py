"""How long the local stack takes to import a 4,000-message history chunk, and whether it slows down.

A local stack (``devstack.server.LocalStack``, the one ``make run`` starts) runs in this process on
a free port. One coexistence connection is created over its HTTP API, then ``CHUNKS`` signed
history chunks of 4,000 messages in 200 threads (about 2.5 MB each, new customers in every chunk)
are posted to ``/webhook``, one at a time; each is timed from its post until the connection's
``messagesImported`` has grown by 4,000. :func:`measure` returns the first chunk's seconds and the
last chunk's over the first's (the data stored grows by a chunk each time; a stack whose cost per
write grows with its data shows it there).

``python -m benchmarks.local_stack [--moto-copies] [CHUNKS]``: ``--moto-copies`` runs moto's own
transactions (a copy of every table they touch, per item) instead of ``devstack.moto_patches``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from devstack import moto_patches
from devstack.meta import MetaSimulator
from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.builders.events import meta_bytes
from whatrack.webhooks.signature import sign

CHUNKS, THREADS, MESSAGES_PER_THREAD = 5, 200, 20
PNID, BIZ, T0 = "309988776650001", "5511955550999", 1751400000
ADMIN_KEY, APP_SECRET = "local-admin-key", "local-app-secret"
BODY = "Oi! Tudo bem? Queria saber o preço do produto e o prazo de entrega para São Paulo. " * 5


def call(base: str, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own 127.0.0.1 stack
        text = response.read().decode()
        return response.status, json.loads(text) if text.startswith(("{", "[")) else text


def api(base: str, method: str, path: str, payload: Any = None, key: str = ADMIN_KEY) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    return call(base, method, path, data, headers)[1]


def history_chunk(index: int) -> bytes:
    """Chunk ``index`` (0-based): 200 threads of 20 messages, customers of its own, in Meta's bytes."""
    threads = []
    for t in range(THREADS):
        customer = f"55119{index:02d}{t:04d}00"
        messages = [
            b.text(f"wamid.ls{index}.{t}.{m}", customer if m % 2 == 0 else BIZ, T0 - 86400 * index + m * 60, BODY)
            for m in range(MESSAGES_PER_THREAD)
        ]
        threads.append(b.thread(customer, *messages))
    doc = b.chunk(1, index + 1, 10 + index * 10, *threads)
    doc["entry"][0]["changes"][0]["value"]["metadata"] = {"display_phone_number": BIZ, "phone_number_id": PNID}
    return meta_bytes(doc)


def imported(base: str, connection_id: str, key: str) -> int:
    connection = api(base, "GET", f"/connections/{connection_id}", key=key)["connection"]
    return int(connection["historySync"]["messagesImported"])


def run_chunks(stack: LocalStack, chunks: int, timeout: float) -> list[float]:
    base = stack.url
    key = api(base, "POST", "/admin/organizations", {"name": "Bench"})["apiKey"]
    connection = api(
        base,
        "POST",
        "/connections",
        {"phoneNumberId": PNID, "wabaId": "401", "displayPhoneNumber": BIZ, "mode": "coexistence", "syncHistory": True},
        key,
    )["connection"]
    seconds: list[float] = []
    per_chunk = THREADS * MESSAGES_PER_THREAD
    for index in range(chunks):
        raw = history_chunk(index)
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(raw, APP_SECRET)}
        started = time.perf_counter()
        status, _ = call(base, "POST", "/webhook", raw, headers)
        assert status == 200, status
        target = per_chunk * (index + 1)
        while (done := imported(base, connection["id"], key)) < target:
            if time.perf_counter() - started > timeout:
                done -= per_chunk * index
                rate = done / (time.perf_counter() - started)
                raise TimeoutError(f"chunk {index + 1}: {done} of {per_chunk} in {timeout:.0f} s ({rate:.1f} msg/s)")
            time.sleep(0.25)
        seconds.append(time.perf_counter() - started)
        print(f"chunk {index + 1}: {len(raw) / 1e6:.2f} MB, {per_chunk} messages in {seconds[-1]:.1f} s", flush=True)
    return seconds


def measure(chunks: int = CHUNKS, *, moto_copies: bool = False, timeout: float = 600.0) -> dict[str, float]:
    """Post ``chunks`` chunks to a fresh local stack; the first's seconds, the last's over the first's."""
    saved = dict(os.environ)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory() as logs:
        stack = LocalStack(port=0, function_log=Path(logs) / "functions.log", meta=MetaSimulator())
        stack.start()
        try:
            if moto_copies:
                moto_patches.uninstall()
            seconds = run_chunks(stack, chunks, timeout)
        finally:
            stack.stop()
            os.environ.clear()
            os.environ.update(saved)
    return {"local_stack_4000_msg_chunk_seconds": seconds[0], "local_stack_growth_5th_vs_1st": seconds[-1] / seconds[0]}


def main() -> None:
    numbers = [int(arg) for arg in sys.argv[1:] if arg.isdigit()]
    print(json.dumps(measure(numbers[0] if numbers else CHUNKS, moto_copies="--moto-copies" in sys.argv)))


if __name__ == "__main__":
    main()
