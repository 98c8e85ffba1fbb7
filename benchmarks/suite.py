"""Issue 11's keys, and issue 21's media keys, with their targets: measured, written to
``bench/results/latest.json`` and to the table in ``docs/performance.md`` (between its markers).

Every ratio compares two things measured in the same run; repeated figures carry their median and
spread (min, max). A target that is missed is reported as missed: nothing here is tuned to pass.
"""

from __future__ import annotations

import json
import operator
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.generator import MAX_BODY_BYTES, body_bytes, chunk_messages, generate, uniform_chunk

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
DELAY_S = 0.005
INGEST_ROUNDS, INGEST_ROUNDS_QUICK = 8, 4


@dataclass(frozen=True)
class Target:
    what: str
    limit: float
    at_most: bool  # value <= limit passes (else value >= limit)

    def passes(self, value: float | None) -> bool:
        if value is None:
            return False
        compare: Callable[[float, float], bool] = operator.le if self.at_most else operator.ge
        return compare(value, self.limit)

    @property
    def text(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.limit:g}"


TARGETS: dict[str, Target] = {
    "ddb_requests_per_1000_history_messages": Target(
        "DynamoDB requests per 1,000 messages of realistic chunks", 100, True
    ),
    "ddb_requests_redelivered_chunk": Target("requests for a chunk that was already imported", 5, True),
    "write_units_per_history_message": Target("write capacity units per imported message, realistic mix", 3.0, True),
    "import_throughput_vs_batch_floor": Target(
        "history_chunk msg/s over sequential 25-item BatchWriteItem", 1.0, False
    ),
    "import_throughput_vs_seed_loop": Target("history_chunk msg/s over the per-message upsert loop", 10, False),
    "ingest_3mb_vs_floor": Target("webhook_ingest on 3 MB over a bare S3 put + SQS send", 2.5, True),
    "cold_start_vs_client_floor_max": Target(
        "worst function's cold start over a bare client's first GetItem", 2.5, True
    ),
    "cold_start_ingest_vs_client_floor": Target(
        "webhook_ingest's cold start over a bare client's first GetItem", 2.0, True
    ),
    "peak_rss_mb_3mb_chunk": Target("peak RSS (MB) of a 3 MB chunk through ingest and history_chunk", 200, True),
    "local_stack_4000_msg_chunk_seconds": Target("seconds until a 4,000-message chunk is imported locally", 30, True),
    "local_stack_growth_5th_vs_1st": Target("5th chunk's time over the 1st's on the local stack", 1.5, True),
}
MEDIA_TARGETS: dict[str, Target] = {  # issue 21 (benchmarks/media.py)
    "media_dynamodb_requests_per_file": Target("DynamoDB requests per media file downloaded (design: 3)", 4, True),
    "media_throughput_vs_floor": Target(
        "a 64 MB file's whole fetch over a bare streamed GET + multipart put of it (floor s / ours)", 0.8, False
    ),
    "media_peak_rss_mb_100mb": Target("peak RSS (MB) of media_fetch taking a 100 MB document", 160, True),
}
REPLY_TARGETS: dict[str, Target] = {  # issue 22 (benchmarks/replies.py)
    "reply_aws_requests_per_reply": Target(
        "AWS requests of a reply's own path, POST to read (the three status webhooks included)", 12, True
    ),
    "reply_send_rate_vs_meta": Target(
        "outbox sends per second over Meta's 20 per number, a burst of replies (no 130429)", 0.9, False
    ),
}
SCREEN_TARGETS: dict[str, Target] = {  # issue 23 (benchmarks/screens.py)
    "screen_idle_aws_requests_per_minute": Target(
        "AWS requests a minute of an open ticket nothing happens to (before: 100, a blind read every 3 s)", 25, True
    ),
    "screen_changing_aws_requests_per_minute": Target(
        "AWS requests a minute of an open ticket that finds news at every turn (no more than the blind read)",
        100,
        True,
    ),
}
ALL_TARGETS: dict[str, Target] = TARGETS | MEDIA_TARGETS | REPLY_TARGETS | SCREEN_TARGETS


def spread(samples: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "samples": samples}


def entry(
    key: str, value: float | None, how: str, *, samples: list[float] | None = None, **extra: Any
) -> dict[str, Any]:
    target = ALL_TARGETS[key]
    out: dict[str, Any] = {"value": value, "target": target.text, "pass": target.passes(value), "how": how}
    if samples:
        out |= {"median": statistics.median(samples), "spread": [min(samples), max(samples)], "samples": samples}
    out.update(extra)
    if extra.get("errors"):
        out["pass"] = False
    return out


# ---------------------------------------------------------------------------------------------- history
def root_cause(exc: BaseException) -> str:
    """The handler's own error: the batch utility keeps it in its ``child_exceptions``."""
    seen: BaseException = exc
    while seen.__cause__ is not None:
        seen = seen.__cause__
    children = getattr(seen, "child_exceptions", None)
    if children:
        _, inner, _ = children[0]
        return repr(inner)
    return repr(seen)


def history_keys(quick: bool) -> dict[str, dict[str, Any]]:
    from benchmarks.history_import import ChunkImporter, batch_floor, empty_copy_of, emulated, seed_loop

    history = generate(120 if quick else 1800, seed=11)
    chunks = history.chunks
    errors: list[str] = []
    per_chunk: list[dict[str, Any]] = []
    redelivered: dict[str, Any] = {}
    # A realistic onboarding: every chunk into one connection, in Meta's order. A chunk the handler
    # fails is recorded (the keys fail), and that chunk and the ones after it are each imported into
    # a fresh stack so that the remaining figures are still measured.
    fresh = False
    index = 0
    while index < len(chunks):
        with emulated():
            importer = ChunkImporter()
            while index < len(chunks):
                document = chunks[index]
                before = {json.dumps(i, sort_keys=True) for i in importer.inbox_items()}
                try:
                    result, records = importer.import_chunk(document, delay_s=DELAY_S)
                except RuntimeError as exc:
                    if fresh:
                        raise
                    where = f"chunk {index + 1} of {len(chunks)} (sequential onboarding)"
                    errors.append(f"{where}: {root_cause(exc)}"[:300])
                    fresh = True
                    break
                changed = [i for i in importer.inbox_items() if json.dumps(i, sort_keys=True) not in before]
                table = importer.stack.tables["InboxTable"]
                floor_s, floor_meter = batch_floor(changed, empty_copy_of(table, f"floor-{index}"), DELAY_S)
                seed_s, seed_meter = seed_loop([document], empty_copy_of(table, f"seed-{index}"), DELAY_S)
                messages = chunk_messages(document)
                per_chunk.append(
                    {
                        "chunk": index + 1,
                        "phase": document["entry"][0]["changes"][0]["value"]["history"][0]["metadata"]["phase"],
                        "bytes": len(body_bytes(document)),
                        "messages": messages,
                        "fresh_stack": fresh,
                        "requests": result.requests,
                        "operations": result.operations,
                        "write_units": result.write_units,
                        "transactional_write_units": result.transactional_write_units,
                        "handler_seconds": result.seconds,
                        "handler_msg_per_s": messages / result.seconds,
                        "floor_items": len(changed),
                        "floor_requests": floor_meter.total,
                        "floor_seconds": floor_s,
                        "floor_msg_per_s": messages / floor_s,
                        "seed_loop_requests": seed_meter.total,
                        "seed_loop_seconds": seed_s,
                        "seed_loop_msg_per_s": messages / seed_s,
                    }
                )
                if not redelivered and messages == max(chunk_messages(c) for c in chunks):
                    again = importer.deliver(records)
                    redelivered = {
                        "chunk": index + 1,
                        "messages": messages,
                        "requests": again.total,
                        "operations": dict(again.requests),
                    }
                index += 1
                if fresh:
                    break
    with emulated():
        importer = ChunkImporter()
        uniform, _ = importer.import_chunk(uniform_chunk(20 if quick else 200, 5))
    total_messages = sum(c["messages"] for c in per_chunk)
    requests = sum(c["requests"] for c in per_chunk)
    units = sum(c["write_units"] for c in per_chunk)
    weighted = [c for c in per_chunk if c["messages"] >= 100] or per_chunk
    vs_floor = [c["handler_msg_per_s"] / c["floor_msg_per_s"] for c in weighted]
    vs_seed = [c["handler_msg_per_s"] / c["seed_loop_msg_per_s"] for c in weighted]
    shape = (
        f"realistic history (benchmarks.generator, seed 11): {history.messages} messages in "
        f"{len(history.thread_sizes)} threads, {len(chunks)} chunks over phases 0-2 (max {MAX_BODY_BYTES / 1e6:g} MB)"
    )
    sequence = "in one connection in Meta's order" + (
        "; the handler failed a chunk, so it and the later chunks were measured each in a fresh stack" if errors else ""
    )
    common = {"errors": errors} if errors else {}
    return {
        "ddb_requests_per_1000_history_messages": entry(
            "ddb_requests_per_1000_history_messages",
            requests * 1000 / total_messages,
            f"{shape}; each chunk through webhook_ingest then the real history_chunk handler under moto, "
            f"{sequence}; DynamoDB requests of history_chunk counted at botocore",
            samples=[c["requests"] * 1000 / c["messages"] for c in per_chunk],
            per_chunk=per_chunk,
            **common,
        ),
        "ddb_requests_redelivered_chunk": entry(
            "ddb_requests_redelivered_chunk",
            redelivered.get("requests"),
            "the largest realistic chunk's SQS record handed to history_chunk again after its import",
            detail=redelivered,
        ),
        "write_units_per_history_message": entry(
            "write_units_per_history_message",
            units / total_messages,
            "write units billed by item size at botocore (1 per started KB of the larger of the item before and "
            "after, at least 1; x2 per item of a TransactWriteItems; refused writes count) over the realistic chunks",
            samples=[c["write_units"] / c["messages"] for c in per_chunk],
            case_200x5={
                "messages": uniform.messages,
                "requests": uniform.requests,
                "write_units": uniform.write_units,
                "write_units_per_message": uniform.write_units / uniform.messages,
                "requests_per_1000_messages": uniform.requests * 1000 / uniform.messages,
                "operations": uniform.operations,
            },
            **common,
        ),
        "import_throughput_vs_batch_floor": entry(
            "import_throughput_vs_batch_floor",
            statistics.median(vs_floor),
            f"per chunk (chunks of >= 100 messages), {DELAY_S * 1000:g} ms slept before every DynamoDB request: "
            "history_chunk msg/s over the msg/s of writing the items it left in the table (scan diff) into an "
            "empty table with sequential 25-item BatchWriteItem; median over chunks (moto's own CPU time is in both)",
            samples=vs_floor,
            **common,
        ),
        "import_throughput_vs_seed_loop": entry(
            "import_throughput_vs_seed_loop",
            statistics.median(vs_seed),
            "the same, over the product requirements' history loop done literally (per thread an UpdateItem "
            "upsert of the lead and of the conversation, then one UpdateItem upsert per message, sequential)",
            samples=vs_seed,
            **common,
        ),
    }


# ---------------------------------------------------------------------------------------------- ingest
def ingest_key(bodies: list[bytes], repeats: int) -> dict[str, dict[str, Any]]:
    """Each round ingests a body not seen before, as Meta's deliveries are (the bodies are the
    realistic history's largest chunks); a redelivery of the first body is measured apart."""
    import boto3

    from benchmarks.history_import import ChunkImporter, emulated, settle
    from tests.builders.events import signed_post
    from whatrack.webhooks.envelope import classify_body

    assert all(classify_body(body) for body in bodies)
    handler_s: list[float] = []
    floor_s: list[float] = []
    with emulated():
        importer = ChunkImporter()
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        bucket = importer.stack.buckets[next(iter(importer.stack.buckets))]
        from devstack.runtime import LambdaContext
        from functions.webhook_ingest import app as ingest_app

        def ingest(event: dict[str, Any]) -> float:
            settle()
            started = time.perf_counter()
            answer = ingest_app.lambda_handler(event, LambdaContext("WebhookIngestFunction", 1024, 20))
            elapsed = time.perf_counter() - started
            assert answer["statusCode"] == 200, answer
            importer.ingest_drain()
            return elapsed

        events = []
        for body in bodies[: repeats + 1]:
            event = signed_post(json.loads(body))
            # signed_post re-serializes as Meta does; the body is the generator's own serialization
            assert len(event["body"]) == len(body)
            events.append((event, body))
        for attempt, (event, body) in enumerate(events):
            elapsed = ingest(event)
            settle()
            started = time.perf_counter()
            s3.put_object(Bucket=bucket, Key=f"bench/floor-{attempt}.json", Body=body)
            sqs.send_message(
                QueueUrl=importer.queue_url,
                MessageBody=json.dumps({"archive_key": f"bench/floor-{attempt}.json", "pad": "x" * 512}),
            )
            floor = time.perf_counter() - started
            importer.ingest_drain()
            if attempt:  # the first round warms both paths (clients, imports)
                handler_s.append(elapsed)
                floor_s.append(floor)
        redelivered = [ingest(events[1][0]) for _ in range(3)]
        parse_s = [parse_seconds(body) for _, body in events[1:]]
    ratios = [h / f for h, f in zip(handler_s, floor_s, strict=True)]
    return {
        "ingest_3mb_vs_floor": entry(
            "ingest_3mb_vs_floor",
            statistics.median(ratios),
            f"realistic history bodies of {min(map(len, bodies)) / 1e6:.2f}-{max(map(len, bodies)) / 1e6:.2f} MB, a "
            "new one each round: the webhook_ingest handler (signature, parse, archive, route, log) over an S3 put "
            "of the same bytes plus one SQS send of a claim-check-sized message (SQS refuses 3 MB), same moto, "
            "warm, alternated; median of the per-round ratios",
            samples=ratios,
            handler_seconds=spread(handler_s),
            floor_seconds=spread(floor_s),
            redelivered_handler_seconds=spread(redelivered),
            parse_only_seconds=spread(parse_s),
            floor_plus_parse_vs_floor=statistics.median((f + p) / f for f, p in zip(floor_s, parse_s, strict=True)),
        )
    }


def parse_seconds(body: bytes) -> float:
    """The least a router of the body's changes does besides the floor: parse it (orjson, as ingest)."""
    import orjson

    started = time.perf_counter()
    orjson.loads(body)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------- subprocesses
def start_rss(body: bytes) -> tuple[subprocess.Popen[str], Path]:
    """The peak RSS measurement, started in the background (its own process and moto server)."""
    path = Path(tempfile.mkstemp(suffix=".json")[1])
    path.write_bytes(body)
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.subprocesses", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return child, path


def finish_rss(child: subprocess.Popen[str], path: Path) -> dict[str, Any]:
    out, _ = child.communicate(timeout=900)
    path.unlink(missing_ok=True)
    lines = [line[7:] for line in out.splitlines() if line.startswith("RESULT ")]
    if child.returncode != 0 or not lines:
        raise RuntimeError(f"the peak RSS process failed ({child.returncode})")
    return dict(json.loads(lines[-1]))


def process_keys(body: bytes, repeats: int, rss_child: tuple[subprocess.Popen[str], Path]) -> dict[str, dict[str, Any]]:
    from benchmarks.subprocesses import cold_starts, moto_server

    with moto_server() as (env, stack):
        cold = cold_starts(env, stack, repeats)
    rss = finish_rss(*rss_child)
    how = (
        "per function of template.yaml, a fresh interpreter importing its handler and serving a real first event "
        "(the emulation seeded with an organization and a connection; each consumer's record is what ingest "
        "queued for a sample Meta never sent before; no event may fail), timed inside the child from before the "
        "import; over a fresh interpreter that imports boto3, makes one DynamoDB client and sends one GetItem, "
        f"timed the same way; medians of {repeats} interleaved runs"
    )
    return {
        "cold_start_vs_client_floor_max": entry(
            "cold_start_vs_client_floor_max",
            cold["ratio"],
            f"{how}; the worst function",
            worst=cold["worst"],
            errors=cold["errors"],
            detail=cold,
        ),
        "cold_start_ingest_vs_client_floor": entry(
            "cold_start_ingest_vs_client_floor",
            cold["ingest_ratio"],
            f"{how}; webhook_ingest",
            errors={k: v for k, v in cold["errors"].items() if k == "WebhookIngestFunction"},
        ),
        "peak_rss_mb_3mb_chunk": entry(
            "peak_rss_mb_3mb_chunk",
            float(rss["peak_rss_mb"]),
            f"ru_maxrss of one fresh process taking a realistic {len(body) / 1e6:.2f} MB history body through the "
            "webhook_ingest handler and every record it queued through history_chunk (AWS emulated by a moto "
            "server in another process, so its data is not counted)",
            detail=rss,
        ),
    }


# ---------------------------------------------------------------------------------------------- local stack
def local_stack_keys(quick: bool) -> dict[str, dict[str, Any]]:
    from benchmarks import local_stack

    source = "benchmarks.local_stack"
    # quick (the unit test's run): two chunks; else five, as the issue measures growth
    found: dict[str, Any] = dict(local_stack.measure(2 if quick else 5))
    details = found.get("details", {})
    how = (
        f"{source}: a 200 x 20 (4,000-message) chunk posted signed to the local stack (make run's, in-process) "
        "until messagesImported grew by 4,000"
    )
    first = details.get("first_chunk", {})
    if first and not first.get("finished", True):
        how += (
            f" - NOT finished: {first['imported']} imported after {first['after_s']:.0f} s, the value is "
            "extrapolated from that rate"
        )
    growth_how = f"{source}: the 5th such chunk's time over the 1st's, in one run"
    if details.get("growth_chunk_messages") not in (None, details.get("chunk_messages")):
        growth_how += f" (chunks of {details['growth_chunk_messages']} messages: 4,000 would not fit the budget)"
    return {
        "local_stack_4000_msg_chunk_seconds": entry(
            "local_stack_4000_msg_chunk_seconds", found["local_stack_4000_msg_chunk_seconds"], how, detail=details
        ),
        "local_stack_growth_5th_vs_1st": entry(
            "local_stack_growth_5th_vs_1st",
            found["local_stack_growth_5th_vs_1st"],
            growth_how,
            samples=details.get("growth_runs_seconds"),
        ),
    }


# ---------------------------------------------------------------------------------------------- media
def media_keys(quick: bool) -> dict[str, dict[str, Any]]:
    from benchmarks import media

    found = media.measure(quick)
    requests, speed, rss = found["requests"], found["throughput"], found["rss"]
    world = (
        "benchmarks.media: the Meta simulator serving Graph's media endpoint and the bytes over HTTP on "
        "127.0.0.1, a moto server (tables, queues, bucket, secrets of template.yaml) in this process; each file "
        "announced in a customer's live message through webhook_ingest and live_message, and checked stored "
        "with Meta's sha256 and size, its object in the bucket"
    )
    document = rss["document"]
    return {
        "media_dynamodb_requests_per_file": entry(
            "media_dynamodb_requests_per_file",
            requests["dynamodb_per_file"],
            f"{world}; {requests['files']} photos of {requests['file_bytes'] / 1000:g} KB, each job alone through "
            "the media_fetch handler; every AWS request it made counted at botocore (PynamoDB and boto3); mean per "
            "file (S3, Secrets Manager and Graph per file beside it)",
            samples=requests["dynamodb_samples"],
            s3_requests_per_file=requests["s3_per_file"],
            secretsmanager_requests_per_file=requests["secretsmanager_per_file"],
            graph_calls_per_file=requests["graph_calls_per_file"],
            detail=requests,
        ),
        "media_throughput_vs_floor": entry(
            "media_throughput_vs_floor",
            speed["ratio"],
            f"{world}; a {speed['file_bytes'] / 2**20:g} MiB file: the whole MediaFetcher.fetch (claim, connection, "
            "token, Graph, streamed download hashed into a multipart upload of 8 MiB parts, settle) against the "
            "floor, a bare streamed GET of a fresh URL of the same file read in 8 MiB parts, each sent with "
            f"upload_part of a plain boto3 client to the same bucket; alternated, {speed['rounds']} rounds after one "
            "that warms both; median of the per-round floor seconds / our seconds",
            samples=speed["ratios"],
            file_bytes=speed["file_bytes"],
            our_seconds=spread(speed["our_seconds"]),
            floor_seconds=spread(speed["floor_seconds"]),
            our_mb_per_s=speed["our_mb_per_s"],
            floor_mb_per_s=speed["floor_mb_per_s"],
        ),
        "media_peak_rss_mb_100mb": entry(
            "media_peak_rss_mb_100mb",
            float(document["peak_rss_mb"]),
            f"{world}; ru_maxrss of a fresh interpreter (spawned through a small launcher: on Linux a child's "
            "ru_maxrss starts at its parent's size) importing the media_fetch handler and serving one SQS event with "
            f"the job of a {document['file_bytes']:,}-byte document (the simulator and moto are in the parent)",
            file_bytes=document["file_bytes"],
            detail=rss,
        ),
    }


# ---------------------------------------------------------------------------------------------- replies
def reply_keys(quick: bool) -> dict[str, dict[str, Any]]:
    from benchmarks import replies

    found = replies.measure(quick)
    requests, rate = found["requests"], found["rate"]
    world = (
        "benchmarks.replies: the Meta simulator answering Graph's sends over HTTP on 127.0.0.1 (20 sends a second "
        "per number, 130429 past it) and posting each send's statuses, a moto server (tables, queues, secrets of "
        "template.yaml) in this process; each customer writes live first through webhook_ingest and live_message"
    )
    first = requests["first"]
    return {
        "reply_aws_requests_per_reply": entry(
            "reply_aws_requests_per_reply",
            requests["aws_per_reply"],
            f"{world}; {requests['replies']} replies, each alone: the status API's handler takes the POST, "
            "reply_send its queue message, webhook_ingest and live_message the sent, delivered and read webhooks; "
            "every AWS request counted at botocore; the reply's own requests, mean per reply (each reply checked "
            "read, sent once). Beside it: what any API call costs (its key and organization, 2, when the warm "
            "function does not remember the key), what any webhook costs (ingest's archive, route and log, and the "
            "consumer's outcome on the log and the number's inbox activity)",
            samples=requests["samples"],
            by_step=first["by_step"],
            with_overhead_per_reply=requests["with_overhead_per_reply"],
            ingest_of_three_webhooks=requests["ingest_per_reply"],
            operations=first["operations"],
        ),
        "reply_send_rate_vs_meta": entry(
            "reply_send_rate_vs_meta",
            rate["ratio"],
            f"{world}; {rate['replies']} replies to as many conversations queued at once, taken by "
            f"{rate['senders']} reply_send executions in parallel (Lambda scaling a FIFO queue out by message "
            "group); sends per second from the first send Meta accepted to the last, over 20; every reply sent "
            "once; a 130429 fails the key",
            sends_per_second=rate["sends_per_second"],
            seconds=rate["seconds"],
            throttled_130429=rate["throttled_130429"],
            errors=[f"{rate['throttled_130429']} sends refused with 130429"] if rate["throttled_130429"] else [],
        ),
    }


# ---------------------------------------------------------------------------------------------- screens
def screen_keys(quick: bool) -> dict[str, dict[str, Any]]:
    from benchmarks import screens

    found = screens.measure()
    ticket = found["ticket"]
    how = (
        "benchmarks.screens: the status API's handler on moto in this process, an organization with one complete "
        "onboarding and a live ticket; every AWS request counted at botocore. The ticket screen asks GET "
        "/connections/{id} with its last ETag every 3 s (304: 1 read) and reads its newest 30 messages only after "
        "an answer that changed; a warm function reads the API key's 2 items once a minute"
    )
    others = {name: found[name] for name in ("lead", "leads_and_tickets", "details", "cards")}
    return {
        "screen_idle_aws_requests_per_minute": entry(
            "screen_idle_aws_requests_per_minute",
            float(ticket["idle_per_minute"]),
            f"{how}; 20 asks a minute answered 304, plus the key",
            ask_unchanged=found["ask_unchanged"],
            before=found["ticket_before_per_minute"],
            other_screens=others,
        ),
        "screen_changing_aws_requests_per_minute": entry(
            "screen_changing_aws_requests_per_minute",
            float(ticket["changing_per_minute"]),
            f"{how}; 20 asks a minute that each find news and read the ticket's newest 30 messages "
            f"({ticket['turn_with_news']} requests a turn), plus the key",
            turn_with_news=ticket["turn_with_news"],
            before=found["ticket_before_per_minute"],
        ),
    }


# ---------------------------------------------------------------------------------------------- run
@dataclass
class Prepared:
    """The 3 MB bodies (one per ingest round), and the peak RSS process already started on the first
    (it runs for minutes, so it is started first, before the older benchmarks, and collected last)."""

    bodies: list[bytes]
    rss_child: tuple[subprocess.Popen[str], Path]

    @property
    def body(self) -> bytes:
        return self.bodies[0]


def prepare(quick: bool = False) -> Prepared:
    # the largest chunk of a realistic history (packed to just under Meta's 3 MB cap), one history per seed
    if quick:
        bodies = [body_bytes(uniform_chunk(10, 5, seed=seed)) for seed in range(5, 5 + INGEST_ROUNDS_QUICK)]
    else:
        bodies = [max(generate(30_000, seed=seed).bodies(), key=len) for seed in range(7, 7 + INGEST_ROUNDS)]
    return Prepared(bodies, start_rss(bodies[0]))


def run(quick: bool = False, prepared: Prepared | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    prepared = prepared or prepare(quick)
    body, bodies, rss_child = prepared.body, prepared.bodies, prepared.rss_child
    steps: list[tuple[str, Callable[[], dict[str, dict[str, Any]]]]] = [
        ("history import", lambda: history_keys(quick)),
        ("ingest", lambda: ingest_key(bodies, len(bodies) - 1)),
        ("local stack", lambda: local_stack_keys(quick)),
        ("fresh processes", lambda: process_keys(body, 1 if quick else 3, rss_child)),
        ("media", lambda: media_keys(quick)),
        ("replies", lambda: reply_keys(quick)),
        ("screens", lambda: screen_keys(quick)),
    ]
    for label, step in steps:
        step_started = time.perf_counter()
        print(f"==> {label}", flush=True)
        try:
            results.update(step())
        except Exception as exc:
            print(f"    {label} failed: {exc!r}", flush=True)
            traceback.print_exc()
            for key in STEP_KEYS[label]:
                results.setdefault(key, entry(key, None, f"{label} failed", errors=[repr(exc)[:500]]))
        print(f"    {time.perf_counter() - step_started:.0f} s", flush=True)
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "quick": quick},
        "seconds": time.perf_counter() - started,
        "keys": {key: results[key] for key in ALL_TARGETS},
    }


STEP_KEYS = {
    "history import": [
        "ddb_requests_per_1000_history_messages",
        "ddb_requests_redelivered_chunk",
        "write_units_per_history_message",
        "import_throughput_vs_batch_floor",
        "import_throughput_vs_seed_loop",
    ],
    "ingest": ["ingest_3mb_vs_floor"],
    "fresh processes": ["cold_start_vs_client_floor_max", "cold_start_ingest_vs_client_floor", "peak_rss_mb_3mb_chunk"],
    "local stack": ["local_stack_4000_msg_chunk_seconds", "local_stack_growth_5th_vs_1st"],
    "media": list(MEDIA_TARGETS),
    "replies": list(REPLY_TARGETS),
    "screens": list(SCREEN_TARGETS),
}


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def table(results: dict[str, Any]) -> str:
    lines = ["| key | value | target | pass | median (spread) |", "|---|---|---|---|---|"]
    for key, found in results["keys"].items():
        median = (
            f"{fmt(found['median'])} ({fmt(found['spread'][0])} to {fmt(found['spread'][1])})"
            if "median" in found
            else ""
        )
        verdict = "PASS" if found["pass"] else "**FAIL**"
        lines.append(f"| `{key}` | {fmt(found['value'])} | {found['target']} | {verdict} | {median} |")
    return "\n".join(lines)


def write(results: dict[str, Any], results_path: Path = RESULTS, doc: Path = PERFORMANCE_DOC) -> None:
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    block = (
        f"{BEGIN}\n_Written by `make bench` on {results['generated_at']} "
        f"(Python {results['machine']['python']}, {results['seconds']:.0f} s)._\n\n{table(results)}\n{END}"
    )
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text)


def report(results: dict[str, Any]) -> bool:
    print(table(results))
    failed = [k for k, v in results["keys"].items() if not v["pass"]]
    if failed:
        print(f"\nFAIL: {len(failed)} of {len(results['keys'])} targets missed: {', '.join(failed)}")
    else:
        print("\nall targets met")
    return not failed


def main(argv: list[str], prepared: Prepared | None = None) -> int:
    quick = "--quick" in argv
    results = run(quick=quick, prepared=prepared)
    if not quick or "--write" in argv:
        write(results)
    ok = report(results)
    return 1 if "--check" in argv and not ok else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
