"""``make replay CONNECTION=<id> FROM=<iso> TO=<iso>``: re-deliver a connection's archived changes.

Every webhook change of the connection first received in the range is sent again to its field's
queue by reference to its archived body, as ingest's routing, the retry and the reconciler do; the
consumers apply it again, which changes nothing that was applied (replaying twice changes nothing).

    python scripts/replay.py --connection 01J... --from 2026-11-26T00:00:00Z --to 2026-11-26T12:00:00Z
    python scripts/replay.py --connection 01J... --config-env dev       # a deployed stack
    python scripts/replay.py --connection 01J... --failed               # only what ended failed

``--failed`` (``make replay CONNECTION=<id> FAILED=1``) re-delivers only the changes that ended
``failed``, of every field, and marks them ``routed`` again: the dashboard's retry, for history and
for everything else.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from scripts.stack import activate, add_arguments, locate
from whatrack.domain.clock import iso, parse_iso
from whatrack.services.archive_replay import ArchiveReplayReport

BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)


def run(connection_id: str, start: datetime, end: datetime) -> ArchiveReplayReport:
    """Replay against the stack this process points at."""
    from whatrack.wiring import operator

    return operator.archive_replay().replay(connection_id, start, end)


def retry_failed(connection_id: str) -> int:
    """Re-send the connection's failed changes of every field (the stack this process points at)."""
    from whatrack.wiring import operator

    return operator.archive_replay().retry_failed(connection_id)


def moment(text: str | None, default: datetime) -> datetime:
    if not text:
        return default
    try:
        parsed = parse_iso(text if text.endswith("Z") or "+" in text else text + "Z")
    except ValueError:
        parsed = None
    if parsed is None:
        raise SystemExit(f"{text!r} is not an ISO-8601 time (e.g. 2026-11-26T12:00:00Z)")
    return parsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--connection", required=True, help="the connection id")
    parser.add_argument("--from", dest="start", help="first receive time, ISO-8601 (default: the beginning)")
    parser.add_argument("--to", dest="end", help="last receive time, ISO-8601 (default: now)")
    parser.add_argument("--failed", action="store_true", help="only the changes that ended failed (every field)")
    args = parser.parse_args(argv)
    if not args.connection:
        raise SystemExit("CONNECTION=<connection id> is required")
    if args.failed:
        target = locate(args)
        activate(target)
        print(f"{target.label}: connection {args.connection}: {retry_failed(args.connection)} failed change(s) re-sent")
        return 0
    start, end = moment(args.start, BEGINNING), moment(args.end, datetime.now(UTC))
    target = locate(args)
    activate(target)
    report = run(args.connection, start, end)
    print(
        f"{target.label}: connection {report.connection_id}, {iso(start)}..{iso(end)}: "
        f"{report.entries} logged change(s), {report.sent} re-delivered from the archive"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
