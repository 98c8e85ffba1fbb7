"""``make chaos SEEDS=N``: the chaos replay of issue 12 on seeds 1..N.

For each seed, one realistic onboarding (tests/chaos/scenario.py) is delivered through a local stack
twice: cleanly, and while 1 in 25 of the functions' AWS calls fails (throttling, transaction
conflicts, 5xx, S3 and SQS errors, handlers dying mid-batch or mid-chunk; Meta's retries of a 5xx
played by the runner). After the queues drain and what ended failed is re-sent once from the
archive, the two final states (leads, conversations, messages, tickets, chunks, counters, sync and
log outcomes) must be the same. The last line is ``chaos: K/N seeds identical``; the exit status is
non-zero unless K = N.

    python scripts/chaos.py --seeds 20 [--rate 0.04] [--messages 1200]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "layers" / "domain"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5, help="run seeds 1..N (default 5)")
    parser.add_argument("--rate", type=float, default=0.04, help="share of the functions' AWS calls that fail")
    parser.add_argument("--messages", type=int, default=1_200, help="history messages per onboarding (about)")
    parser.add_argument(
        "--settle-timeout", type=float, default=900, help="seconds a run may take to settle before it is a failure"
    )
    args = parser.parse_args(argv)

    from devstack.meta import MetaSimulator
    from devstack.server import LocalStack
    from tests.chaos.replay import run_seed

    logging.disable(logging.CRITICAL)  # the injected faults are logged by every function: keep the summary
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "CRITICAL")
    identical = 0
    with tempfile.TemporaryDirectory() as logs:
        for seed in range(1, args.seeds + 1):
            # a fresh stack per seed: the state is read by scanning the tables, which would grow
            log = Path(logs) / f"seed-{seed}.log"
            stack = LocalStack(port=0, visibility_timeout_override=1, function_log=log, meta=MetaSimulator())
            stack.start()
            try:
                result = run_seed(stack, seed, rate=args.rate, messages=args.messages, timeout=args.settle_timeout)
            finally:
                stack.stop()
            identical += result.identical
            print(result.line(), flush=True)
            for line in result.differences:
                print(f"    {line}", flush=True)
    print(f"chaos: {identical}/{args.seeds} seeds identical", flush=True)
    return 0 if identical == args.seeds else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
