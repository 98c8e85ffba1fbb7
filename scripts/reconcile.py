"""``make reconcile``: one sweep of the reconciler now (the same as its schedule), and its findings.

python scripts/reconcile.py                      # the local stack (`make run` in another terminal)
python scripts/reconcile.py --after 0            # anything with no outcome yet counts as stuck
python scripts/reconcile.py --config-env dev     # a deployed stack, with your AWS credentials
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from scripts.stack import activate, add_arguments, locate


def run() -> dict[str, int]:
    """One sweep against the stack this process points at."""
    from whatrack.wiring import reconciler as reconciler_wiring

    return reconciler_wiring.reconciler().run().as_dict()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--after", type=int, help="stuck after this many seconds (default: RECONCILE_AFTER_SECONDS)")
    args = parser.parse_args(argv)
    target = locate(args)
    activate(target)
    if args.after is not None:
        os.environ["RECONCILE_AFTER_SECONDS"] = str(max(args.after, 0))
    print(f"reconciling {target.label}")
    print(json.dumps(run(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
