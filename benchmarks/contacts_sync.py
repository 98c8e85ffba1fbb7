"""DynamoDB requests (and time) a contact sync of 5,000 contacts costs, counted on the emulation.

One ``smb_app_state_sync`` change of 5,000 new contacts goes through the real ``state_sync``
handler (an SQS event, a Lambda context), then is redelivered. Requests are counted per operation
at the botocore level (as in ``chunk_import``), so they are what AWS would bill.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from moto import mock_aws

from benchmarks import bench_environment
from benchmarks.chunk_import import counting
from devstack import moto_patches
from devstack.provision import provision
from devstack.runtime import LambdaContext
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack import wiring
from whatrack.domain.changes import ChangeMessage, WebhookField

CONTACTS = 5_000


def sqs_event(message: ChangeMessage) -> dict[str, Any]:
    """The SQS event Lambda hands the ``state_sync`` function for one queued change."""
    return {
        "Records": [
            {
                "messageId": f"bench-{message.log_id}",
                "receiptHandle": "bench",
                "body": message.encode(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795780800000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795780800001",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ContactsQueue",
                "awsRegion": "us-east-1",
            }
        ]
    }


def contacts_message(connection: dict[str, Any], count: int, log_id: str = "bench-contacts") -> ChangeMessage:
    value = b.contact_sync(count)["entry"][0]["changes"][0]["value"]
    return ChangeMessage(
        field=WebhookField.STATE_SYNC,
        log_id=log_id,
        connection_id=connection["id"],
        organization_id=connection["organizationId"],
        archive_key="-",
        entry_index=0,
        change_index=0,
        received_at=datetime.now(UTC),
        value=value,
    )


def main(count: int = CONTACTS, *, fast: bool = True) -> None:
    bench_environment()
    from functions.state_sync import app as state_app

    with mock_aws(), moto_patches.patched() if fast else moto_patches.unpatched():
        stack = provision(None, environ={})
        os.environ.update(stack.environment)
        wiring.reset()
        ob = Onboarding(stack)
        connection = ob.connect()
        event = sqs_event(contacts_message(connection, count))
        for label in ("first delivery", "redelivery"):
            with counting() as counts:
                started = time.perf_counter()
                # a generous timeout: this measures the whole sync, not where a 60 s Lambda would pause
                result = state_app.lambda_handler(event, LambdaContext("StateSyncFunction", 512, 3600))
                elapsed = time.perf_counter() - started
            assert result == {"batchItemFailures": []}, result
            dynamo = {k: v for k, v in counts.items() if k.startswith("dynamodb:")}
            total = sum(dynamo.values())
            print(
                f"contact sync, {label}: {count} contacts: {total} DynamoDB requests "
                f"({total * 1000 / count:.0f} per 1,000 contacts); {elapsed:.1f} s on moto"
                + (" (transactions without moto's table copies)" if fast else "")
            )
            for operation, n in sorted(dynamo.items()):
                print(f"    {operation:40s} {n}")
        imported = ob.state()["historySync"]["contactsImported"]
        assert imported == count, imported
        print(json.dumps({"contactsImported": imported}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else CONTACTS, fast="--moto-copies" not in sys.argv)
