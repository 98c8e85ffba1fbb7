"""``python -m devstack``: run the local stack in the foreground until Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from devstack.server import LocalStack


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("DEVSTACK_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("werkzeug", "pynamodb", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    visibility = os.environ.get("LOCAL_QUEUE_VISIBILITY_TIMEOUT")
    stack = LocalStack(
        port=int(os.environ.get("PORT", "3000")),
        visibility_timeout_override=int(visibility) if visibility else None,
        watchdog_interval=float(os.environ.get("WATCHDOG_INTERVAL_SECONDS", "60")),
        function_log=Path(log_file) if (log_file := os.environ.get("FUNCTION_LOG_FILE")) else None,
    )
    stopped = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logging.getLogger("devstack").info("received %s, shutting down", signal.Signals(signum).name)
        stopped.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stack.start()
    print(f"WhaTrack local stack listening on {stack.url}  (Ctrl-C to stop)", flush=True)
    stopped.wait()
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
