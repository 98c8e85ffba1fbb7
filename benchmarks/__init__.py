"""Benchmarks (`make bench`). Figures go to docs/benchmarks.md; tests never assert timings."""

import os

BENCH_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "bench",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
"""What every benchmark runs with (unless the environment says otherwise): fake credentials for
the emulation, and quiet handlers."""


def bench_environment() -> None:
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
