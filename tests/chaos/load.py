"""A bounded load test of the local ingest on loopback (issue 12).

``requests`` signed webhooks, from ``senders`` concurrent senders, against a running local stack:
mostly small live messages, echoes and statuses, every 40th a ~3 MB history chunk, every 10th a
repeat of an earlier body (Meta's retries). With a ``cap`` (``make load``), sending stops after that many
seconds whatever is left; without one (the e2e test), every request is sent however slow the machine. Each
answer's latency is kept; afterwards every accepted body is looked for in the archive bucket.

    PYTHONPATH=.:layers/domain python -m tests.chaos.load [--requests 600] [--senders 8]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3

from benchmarks.generator import generate
from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.builders.events import meta_bytes
from tests.chaos.replay import open_run
from tests.chaos.scenario import retarget
from tests.localstack import post_webhook
from whatrack.adapters.archive import archive_key

T0 = 1_767_300_000


@dataclass
class LoadResult:
    sent: int = 0
    accepted: int = 0
    answers: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    accepted_keys: set[str] = field(default_factory=set)
    archived: int = 0
    large: int = 0

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def line(self) -> str:
        return (
            f"load: {self.sent} requests ({self.large} of ~3 MB) in {self.seconds:.1f} s = "
            f"{self.per_second:.1f} req/s; "
            f"latency p50 {self.percentile(0.5):.0f} ms, p99 {self.percentile(0.99):.0f} ms, "
            f"max {max(self.latencies_ms, default=0):.0f} ms; answers {dict(sorted(self.answers.items()))}; "
            f"{len(self.accepted_keys)} distinct accepted bodies, {self.archived} of them archived"
        )


def bodies(requests: int, phone_number_id: str, waba_id: str) -> list[bytes]:
    """The mix, already signed-ready (raw bytes as Meta sends them)."""
    large = [meta_bytes(retarget(c, phone_number_id, waba_id)) for c in generate(30_000, seed=7).chunks]
    large = sorted(large, key=len, reverse=True)[:3]
    out: list[bytes] = []
    for n in range(requests):
        if n % 40 == 39:
            out.append(large[(n // 40) % len(large)])
        elif n % 10 == 9 and out:
            out.append(out[n // 2])  # a retry of an earlier body
        else:
            customer = f"55119{n:08d}"
            kind = n % 3
            if kind == 0:
                document = b.live(f"wamid.load.{n}", customer, T0 + n)
            elif kind == 1:
                document = b.echo(f"wamid.load.{n}", customer, T0 + n)
            else:
                document = b.status(f"wamid.load.{n - 1}", "delivered", T0 + n)
            out.append(meta_bytes(retarget(document, phone_number_id, waba_id)))
    return out


def run_load(stack: LocalStack, *, requests: int = 600, senders: int = 8, cap: float | None = None) -> LoadResult:
    run = open_run(stack, 99, "load", 9)
    work = bodies(requests, run.phone_number_id, run.waba_id)
    result = LoadResult()
    lock = threading.Lock()
    deadline = None if cap is None else time.monotonic() + cap

    def send(raw: bytes) -> None:
        if deadline is not None and time.monotonic() > deadline:
            return
        started = time.perf_counter()
        answer = post_webhook(stack, raw)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            result.sent += 1
            result.answers[answer] = result.answers.get(answer, 0) + 1
            result.latencies_ms.append(elapsed)
            result.large += len(raw) > 1_000_000
            if answer == 200:
                result.accepted += 1
                result.accepted_keys.add(archive_key(raw))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        list(pool.map(send, work))
    result.seconds = time.monotonic() - started
    assert stack.provisioned is not None
    s3 = boto3.client("s3", endpoint_url=stack.aws_endpoint, region_name="us-east-1")
    bucket = stack.provisioned.buckets["ArchiveBucket"]
    result.archived = sum(1 for key in result.accepted_keys if _exists(s3, bucket, key))
    return result


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return False
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--cap", type=float, default=120.0)
    args = parser.parse_args(argv)
    import logging
    import tempfile
    from pathlib import Path

    from devstack.meta import MetaSimulator

    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as logs:
        stack = LocalStack(port=0, function_log=Path(logs) / "functions.log", meta=MetaSimulator())
        stack.start()
        try:
            result = run_load(stack, requests=args.requests, senders=args.senders, cap=args.cap)
        finally:
            stack.stop()
    print(result.line())
    return 0 if result.answers.keys() == {200} and result.archived == len(result.accepted_keys) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
