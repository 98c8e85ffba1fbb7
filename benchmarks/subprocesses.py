"""Measurements that need fresh interpreters: cold starts per function and the peak RSS of a 3 MB chunk.

Both run against one moto server (``ThreadedMotoServer``, in this process) holding the stack's tables,
queues and buckets, so a child process holds only what a Lambda would: the interpreter, boto3, the
layer and the handler, never the emulator's data.
"""

from __future__ import annotations

import compileall
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
CONSUMED = {
    # function -> (the sample Meta sends, the queue its change lands in)
    "HistoryChunkFunction": ("history_chunk", "HistoryQueue"),
    "StateSyncFunction": ("state_sync", "ContactsQueue"),
    "EchoFunction": ("echo_text", "EchoesQueue"),
    "LiveMessageFunction": ("messages_text", "LiveMessagesQueue"),
}

CONTEXT = """
class Context:
    function_name = "bench"; memory_limit_in_mb = 1024; aws_request_id = "cold"; function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"; log_group_name = "/aws/lambda/b"
    log_stream_name = "s"
    def get_remaining_time_in_millis(self): return 30000
"""
COLD_CHILD = (
    CONTEXT
    + """
import importlib, json, sys, time
event = json.loads(sys.argv[2])
started = time.perf_counter()
module = importlib.import_module(sys.argv[1])
error = ""
try:
    answer = module.lambda_handler(event, Context())
    if isinstance(answer, dict) and (answer.get("batchItemFailures") or answer.get("statusCode", 200) >= 400):
        error = json.dumps(answer)[:300]  # a first event that failed is no first event served
except Exception as exc:  # the time is kept; the error is reported
    error = repr(exc)[:200]
print(json.dumps({"seconds": time.perf_counter() - started, "error": error}))
"""
)
BOTO3_CHILD = """
import json, time
started = time.perf_counter()
import boto3
print(json.dumps({"seconds": time.perf_counter() - started, "error": ""}))
"""
CLIENT_FLOOR_CHILD = """
import json, os, time
started = time.perf_counter()
import boto3
client = boto3.client("dynamodb")
client.get_item(TableName=os.environ["ACCOUNTS_TABLE_NAME"], Key={"pk": {"S": "cold"}, "sk": {"S": "cold"}})
print(json.dumps({"seconds": time.perf_counter() - started, "error": ""}))
"""
"""The least any function that reads DynamoDB on its first event can take: ``import boto3``, one
client, one ``GetItem`` (no layer, no handler)."""
RSS_CHILD = (
    CONTEXT
    + """
import json, resource, sys, time, base64
import boto3
from functions.webhook_ingest import app as ingest
from functions.history_chunk import app as history
from whatrack.webhooks.signature import sign
raw = open(sys.argv[1], "rb").read()
event = json.loads(open(sys.argv[2]).read())
event["body"] = raw.decode()
event["headers"]["x-hub-signature-256"] = sign(raw, "local-app-secret")
del raw
answer = ingest.lambda_handler(event, Context())
assert answer["statusCode"] == 200, answer
sqs = boto3.client("sqs")
url = sys.argv[3]
handled = 0
while True:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
    if not got:
        break
    m = got[0]
    record = {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
              "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "A",
                             "ApproximateFirstReceiveTimestamp": "1"},
              "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
              "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:HistoryQueue", "awsRegion": "us-east-1"}
    result = history.lambda_handler({"Records": [record]}, Context())
    assert not result.get("batchItemFailures"), result
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    handled += 1
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "records": handled}))
"""
)


@contextmanager
def moto_server() -> Iterator[tuple[dict[str, str], Any]]:
    """A provisioned moto server; yields the children's environment and the provisioned stack."""
    from moto.server import ThreadedMotoServer

    from devstack import moto_patches
    from devstack.provision import provision

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the server logs every call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    try:
        with moto_patches.patched():
            os.environ.update(
                {
                    "AWS_ENDPOINT_URL": endpoint,
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench",
                    "POWERTOOLS_TRACE_DISABLED": "true",
                    "POWERTOOLS_METRICS_DISABLED": "true",
                    "POWERTOOLS_LOG_LEVEL": "ERROR",
                }
            )
            stack = provision(endpoint)
            os.environ.update(stack.environment)
            from whatrack import wiring

            wiring.reset()
            env = dict(os.environ)
            env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'layers' / 'domain'}"
            yield env, stack
    finally:
        os.environ.clear()
        os.environ.update(saved)
        # the emulated state lives in this process: clear it for the next step (as LocalStack.stop does)
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 - our own 127.0.0.1 server
            pass
        server.stop()


def _child(code: str, args: list[str], env: dict[str, str], timeout: float = 600) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{") and '"level"' not in line]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-800:]}")
    return dict(json.loads(lines[-1]))


def _fresh(sample: str, round_: int) -> dict[str, Any]:
    """A sample Meta never sent before: its wamids (and a history chunk's order) of this round."""
    from tests.builders.samples import SAMPLES

    document: dict[str, Any] = json.loads(json.dumps(SAMPLES[sample]).replace("wamid.", f"wamid.cold{round_}."))
    for item in document["entry"][0]["changes"][0]["value"].get("history", []):
        item["metadata"]["chunk_order"] = 100 + round_
    return document


def take_records(sqs: Any, url: str, arn: str, expected: int, *, within: float = 30.0) -> list[dict[str, Any]]:
    """The queue's messages (``expected`` of them, read until they are all there or ``within`` seconds
    passed), deleted, as the SQS records Lambda builds from them; fewer than ``expected``: what came."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while len(got) < expected and time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(10, expected - len(got)), AttributeNames=["All"]
        )
        for message in batch.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            got.append(_record(message, arn))
    return got


def _record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    """An SQS record as Lambda's event source builds it from a received message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "SenderId": "A",
            "ApproximateFirstReceiveTimestamp": "1",
        },
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }


def first_events(stack: Any, rounds: int) -> list[dict[str, dict[str, Any]]]:
    """Real first events, ``rounds`` sets of them, each new to the stack: the emulation is seeded with an
    organization and a connection; Meta's samples go through ``webhook_ingest`` here, and what it
    queued is what each consumer's first event carries; ingest's own event is a chunk not yet posted."""
    import boto3

    from devstack.runtime import LambdaContext
    from functions.webhook_ingest import app as ingest
    from tests.builders.events import http_event, signed_post
    from tests.builders.payloads import live_raw
    from tests.integration.harness import Onboarding
    from whatrack.domain.changes import ReplayJob
    from whatrack.domain.replies import ReplyJob

    onboarding = Onboarding(stack)
    connection = onboarding.connect()
    # the live consumer stores a photo and queues its download job, which is the media function's
    # first event (kept in its queue: the harness runs every function but that one)
    onboarding.pollers = [poller for poller in onboarding.pollers if "MediaFetchFunction" not in poller.name]
    sqs = boto3.client("sqs")
    admin = {"authorization": "Bearer local-admin-key"}
    out: list[dict[str, dict[str, Any]]] = []
    for round_ in range(rounds):
        events: dict[str, dict[str, Any]] = {}
        for function, (sample, queue) in CONSUMED.items():
            answer = ingest.lambda_handler(signed_post(_fresh(sample, round_)), LambdaContext("seed", 1024, 30))
            assert answer["statusCode"] == 200, answer
            [message] = sqs.receive_message(QueueUrl=stack.queues[queue], MaxNumberOfMessages=1)["Messages"]
            sqs.delete_message(QueueUrl=stack.queues[queue], ReceiptHandle=message["ReceiptHandle"])
            events[function] = {"Records": [_record(message, stack.queue_arns[queue])]}
        events["WebhookIngestFunction"] = signed_post(_fresh("history_chunk", rounds + round_))
        body = json.dumps({"name": f"Cold {round_}"}).encode()
        events["StatusApiFunction"] = http_event("POST", "/admin/organizations", body=body, headers=admin)
        job = {"Body": ReplayJob(connection_id=connection["id"], reason="cold start").encode()}
        job |= {"MessageId": f"job-{round_}", "ReceiptHandle": "r", "MD5OfBody": "m"}
        events["UnmatchedReplayFunction"] = {"Records": [_record(job, stack.queue_arns["ReplayQueue"])]}
        events["WatchdogFunction"] = events["ReconcilerFunction"] = dict(SCHEDULED)
        photo = {"id": f"cold-media-{round_}", "mime_type": "image/jpeg"}
        onboarding.deliver(live_raw(f"wamid.cold.media{round_}", "5511900001234", int(time.time()), "image", photo))
        [message] = sqs.receive_message(QueueUrl=stack.queues["MediaQueue"], MaxNumberOfMessages=1)["Messages"]
        sqs.delete_message(QueueUrl=stack.queues["MediaQueue"], ReceiptHandle=message["ReceiptHandle"])
        events["MediaFetchFunction"] = {"Records": [_record(message, stack.queue_arns["MediaQueue"])]}
        # the outbox's: a job whose reply is not pending (as a job delivered again after its send finds it)
        reply = ReplyJob(
            connection_id=connection["id"],
            organization_id=connection["organizationId"],
            conversation_id=f"cold-{round_}",
            client_message_id=f"wtk.cold-{round_}",
        )
        job = {"Body": reply.encode(), "MessageId": f"reply-{round_}", "ReceiptHandle": "r", "MD5OfBody": "m"}
        events["ReplySendFunction"] = {"Records": [_record(job, stack.queue_arns["RepliesQueue"])]}
        out.append(events)
    return out


def compile_ahead() -> None:
    """Our code's bytecode, as the layer ships it (layers/domain/Makefile; Lambda cannot write it, and
    this machine sets PYTHONDONTWRITEBYTECODE): without it a child would compile every module of ours
    it imports, as no deployed function does. Timestamp-checked, so never stale; third-party packages
    have theirs from pip."""
    for folder in (ROOT / "layers" / "domain" / "whatrack", ROOT / "functions"):
        if not compileall.compile_dir(folder, quiet=1):
            raise RuntimeError(f"could not compile {folder}")


def cold_starts(env: dict[str, str], stack: Any, repeats: int) -> dict[str, Any]:
    """Per function: median seconds to import its handler and serve a real first event in a fresh
    interpreter, over the median of a fresh interpreter that imports boto3, makes one DynamoDB client
    and sends one ``GetItem`` (the least a function that reads DynamoDB can take); runs interleaved."""
    from devstack.runtime import load_functions
    from devstack.template import load_template

    functions = load_functions(load_template())
    compile_ahead()
    rounds = first_events(stack, repeats)
    missing = set(functions) - set(rounds[0])
    if missing:
        raise RuntimeError(f"no first event for {sorted(missing)}")
    baseline: list[float] = []
    client_floor: list[float] = []
    per: dict[str, list[float]] = {name: [] for name in functions}
    errors: dict[str, str] = {}
    for events in rounds:
        baseline.append(float(_child(BOTO3_CHILD, [], env)["seconds"]))
        client_floor.append(float(_child(CLIENT_FLOOR_CHILD, [], env)["seconds"]))
        for name, function in functions.items():
            answer = _child(COLD_CHILD, [function.module, json.dumps(events[name])], env)
            per[name].append(float(answer["seconds"]))
            if answer["error"]:
                errors[name] = str(answer["error"])
    floor = statistics.median(client_floor)
    ratios = {name: statistics.median(samples) / floor for name, samples in per.items()}
    return {
        "boto3_import_seconds": {"median": statistics.median(baseline), "samples": baseline},
        "boto3_client_and_one_get_item": {"median_seconds": floor, "samples": client_floor},
        "functions": {
            name: {"median_seconds": statistics.median(s), "samples": s, "ratio": ratios[name]}
            for name, s in per.items()
        },
        "worst": max(ratios, key=lambda n: ratios[n]),
        "ratio": max(ratios.values()),
        "ingest_ratio": ratios["WebhookIngestFunction"],
        "errors": errors,
    }


def peak_rss(env: dict[str, str], stack: Any, body: bytes) -> dict[str, Any]:
    """A fresh process takes ``body`` through ``webhook_ingest`` and every record it queued through
    ``history_chunk``; its peak RSS (``ru_maxrss``)."""
    from tests.integration.harness import Onboarding

    Onboarding(stack).connect()  # the connection the body is for (created in this process, not the child)
    template = ROOT / "events" / "webhook_ingest" / "post_history_chunk.json"
    with tempfile.NamedTemporaryFile(suffix=".json") as raw:
        raw.write(body)
        raw.flush()
        started = time.perf_counter()
        answer = _child(RSS_CHILD, [raw.name, str(template), stack.queues["HistoryQueue"]], env, timeout=900)
        answer["seconds"] = time.perf_counter() - started
    return answer


def main(argv: list[str]) -> None:
    """``python -m benchmarks.subprocesses BODY_FILE``: the peak RSS measurement alone, as JSON (the suite
    runs it in the background, on its own moto server, while it measures the rest)."""
    body = Path(argv[0]).read_bytes()
    with moto_server() as (env, stack):
        print("RESULT " + json.dumps(peak_rss(env, stack, body)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
