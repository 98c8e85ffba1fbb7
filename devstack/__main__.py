"""``python -m devstack``: run the local stack in the foreground until Ctrl-C.

``META=simulator`` (``make run META=simulator``) starts the Meta simulator with it: the functions' Graph
calls go to it, and it posts its webhooks (the statuses of sends) to this stack. Otherwise Graph is
``GRAPH_API_BASE_URL`` (Meta's own by default).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from devstack.meta import MetaSimulator
from devstack.server import LocalStack

META_CHOICES = ("", "meta", "simulator")


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
    meta = os.environ.get("META", "").strip().lower()
    if meta not in META_CHOICES:
        print(f"META={meta!r}: use META=simulator (a local Meta) or leave it unset (Meta's Graph API)", file=sys.stderr)
        return 2
    stack = LocalStack(
        port=int(os.environ.get("PORT", "3000")),
        visibility_timeout_override=int(visibility) if visibility else None,
        watchdog_interval=float(os.environ.get("WATCHDOG_INTERVAL_SECONDS", "60")),
        function_log=Path(log_file) if (log_file := os.environ.get("FUNCTION_LOG_FILE")) else None,
        meta=MetaSimulator(app_secret=os.environ.get("META_APP_SECRET", "local-app-secret"))
        if meta == "simulator"
        else None,
    )
    stopped = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logging.getLogger("devstack").info("received %s, shutting down", signal.Signals(signum).name)
        stopped.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stack.start()
    print(f"WhaTrack local stack listening on {stack.url}  (Ctrl-C to stop)", flush=True)
    if stack.meta is not None:
        print(f"Meta simulator (Graph API and its webhooks) on {stack.meta.base_url}", flush=True)
    stopped.wait()
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
