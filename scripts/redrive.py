"""``make redrive [QUEUE=<dead-letter queue>]``: move dead letters back to the queues they came from.

For every dead-letter queue (or the one named, e.g. ``HistoryDeadLetterQueue``), each message is
received, sent to its source queue (the queue whose redrive policy points at it) with its
attributes, then deleted; a message that could not be sent stays (visible again after 60 s). The
consumers are idempotent, so a message moved twice is harmless. Prints the counts per queue.

    python scripts/redrive.py                                  # the local stack (`make run`)
    python scripts/redrive.py --queue HistoryDeadLetterQueue --config-env dev
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

import boto3

from scripts.stack import Target, add_arguments, locate

RECEIVE_VISIBILITY_SECONDS = 60


@dataclass(frozen=True)
class Route:
    dead_letters: str
    """Logical id of the dead-letter queue."""
    dead_letter_url: str
    source: str
    source_url: str


def routes(sqs: Any, queues: dict[str, str]) -> list[Route]:
    """Each dead-letter queue with its source queue (from the sources' redrive policies)."""
    arns = {
        name: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy"])["Attributes"]
        for name, url in sorted(queues.items())
    }
    by_arn = {attributes["QueueArn"]: name for name, attributes in arns.items()}
    found = []
    for source, attributes in arns.items():
        if "RedrivePolicy" in attributes:
            dead = by_arn[json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]]
            found.append(Route(dead, queues[dead], source, queues[source]))
    return found


def redrive(sqs: Any, route: Route) -> tuple[int, int]:
    """Move every message of ``route``'s dead-letter queue; (moved, left)."""
    moved = left = 0
    while True:
        received = sqs.receive_message(
            QueueUrl=route.dead_letter_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=RECEIVE_VISIBILITY_SECONDS,
            MessageAttributeNames=["All"],
            AttributeNames=["MessageGroupId"],
        ).get("Messages", [])
        if not received:
            return moved, left
        entries = []
        for index, message in enumerate(received):
            entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            if route.source_url.endswith(".fifo"):  # the replies' outbox: back into its conversation's group
                entry["MessageGroupId"] = message.get("Attributes", {}).get("MessageGroupId", "redriven")
                entry["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=route.source_url, Entries=entries)
        done = {int(s["Id"]) for s in sent.get("Successful", [])}
        left += len(received) - len(done)
        if done:
            sqs.delete_message_batch(
                QueueUrl=route.dead_letter_url,
                Entries=[{"Id": str(i), "ReceiptHandle": received[i]["ReceiptHandle"]} for i in sorted(done)],
            )
            moved += len(done)
        if len(done) < len(received):
            return moved, left  # what failed is invisible for a while: stop, report it


def run(target: Target, queue: str | None = None, sqs: Any | None = None) -> dict[str, dict[str, Any]]:
    client = sqs or boto3.client("sqs", region_name=target.region, endpoint_url=target.endpoint)
    chosen = [r for r in routes(client, target.queues) if queue is None or queue in (r.dead_letters, r.source)]
    if queue is not None and not chosen:
        known = ", ".join(sorted(r.dead_letters for r in routes(client, target.queues)))
        raise SystemExit(f"{queue} is not a dead-letter queue of {target.label} (they are: {known})")
    report = {}
    for route in chosen:
        moved, left = redrive(client, route)
        report[route.dead_letters] = {"to": route.source, "moved": moved, "left": left}
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--queue", help="one dead-letter queue (logical id, e.g. HistoryDeadLetterQueue)")
    args = parser.parse_args(argv)
    target = locate(args)
    report = run(target, args.queue)
    print(f"redrive on {target.label}:")
    for dead, counts in report.items():
        print(f"  {dead:32s} -> {counts['to']:24s} moved {counts['moved']}, left {counts['left']}")
    return 0 if all(c["left"] == 0 for c in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
