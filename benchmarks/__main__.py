"""Ingest cost of a maximum-size (3 MB) history chunk, as ratios within one run.

Measures, with in-memory fakes (no I/O): HMAC over the raw bytes, JSON parse + classification,
and the whole ``IngestService.receive`` path. Prints medians and the share of the HMAC.
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
from collections.abc import Callable

from tests.builders.events import meta_bytes
from tests.builders.samples import SAMPLES
from tests.fakes import InMemoryArchive, InMemoryDirectory, InMemoryWebhookLog, RecordingPublisher, StaticSecrets
from whatrack.domain.routing import ConnectionTarget
from whatrack.services.ingest import IngestService
from whatrack.webhooks.envelope import classify_body
from whatrack.webhooks.signature import sign, verify

SECRET = "bench-secret"


def chunk_of(size: int) -> bytes:
    doc = json.loads(meta_bytes(SAMPLES["history_chunk"]))
    thread = doc["entry"][0]["changes"][0]["value"]["history"][0]["threads"][0]
    template = thread["messages"][0]
    messages = []
    while len(json.dumps(messages)) < size:
        messages.append(dict(template, id=f"wamid.BENCH{len(messages)}", text={"body": "Olá, tudo bem? 😀 " * 4}))
    thread["messages"] = messages
    return meta_bytes(doc)


def median_ms(fn: Callable[[], object], repeat: int = 15) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    raw = chunk_of(3_000_000)
    header = sign(raw, SECRET)
    directory = InMemoryDirectory()
    directory.add("209988776655443", "401122334455667", None, ConnectionTarget("c", "o"))
    service = IngestService(
        archive=InMemoryArchive(),
        publisher=RecordingPublisher(),
        directory=directory,
        webhook_log=InMemoryWebhookLog(),
        secrets=StaticSecrets(app_secret=SECRET),
        max_body_bytes=10 * 1024 * 1024,
        inline_change_limit_bytes=200_000,
    )
    hmac_ms = median_ms(lambda: verify(raw, header, SECRET))
    classify_ms = median_ms(lambda: classify_body(raw))
    receive_ms = median_ms(lambda: service.receive(raw, header))
    tracemalloc.start()
    service.receive(raw, header)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"body: {len(raw) / 1e6:.2f} MB, {raw.count(b'wamid.BENCH')} messages")
    print(f"hmac verify      {hmac_ms:8.2f} ms")
    print(f"parse+classify   {classify_ms:8.2f} ms  ({classify_ms / hmac_ms:.1f}x hmac)")
    print(f"receive (fakes)  {receive_ms:8.2f} ms  ({receive_ms / hmac_ms:.1f}x hmac)")
    print(f"receive peak mem {peak / 1e6:8.1f} MB  ({peak / len(raw):.1f}x body)")


if __name__ == "__main__":
    import sys

    from benchmarks import suite

    argv = sys.argv[1:]
    prepared = suite.prepare("--quick" in argv)  # the peak RSS process runs in the background meanwhile
    if "--keys-only" not in argv and "--quick" not in argv:
        main()
        print()
        from benchmarks import chunk_import, contacts_sync, dashboard, onboarding

        chunk_import.main([])
        print()
        contacts_sync.main()
        print()
        onboarding.main()
        print()
        dashboard.main()
        print()
    # issue 11: the keys with their targets -> bench/results/latest.json and docs/performance.md
    sys.exit(suite.main(argv, prepared))
