"""Issue 21's media keys: the media function downloading files from the Meta simulator into the stack's bucket.

Both sides are real HTTP on 127.0.0.1: the Meta simulator (``devstack.meta``, its server mode) serves
Graph's media endpoint and the file bytes; a moto server (``benchmarks.subprocesses.moto_server``,
the stack's tables, queues, bucket and secrets from ``template.yaml``) answers DynamoDB, S3, SQS and
Secrets Manager. One ``cloud_api`` connection, made through the status API, holds the business
token (in Secrets Manager, as in AWS). Every file is announced as Meta announces it: a
customer's live message through the real ``webhook_ingest`` and ``live_message`` handlers, which
record the file ``pending`` and queue its job; the job received from the media queue is what the
media function gets.

* :func:`requests_per_file`: ``PHOTOS`` photos, each job handed alone to the ``media_fetch``
  handler (a Lambda context, ``invoking`` set, as the local stack does); every AWS request it makes
  counted at botocore by service and operation (PynamoDB and boto3 alike), Graph's calls at the
  simulator.
* :func:`throughput`: a large file (``LARGE_BYTES``), the whole ``MediaFetcher.fetch`` (claim,
  connection, token, Graph, streamed download into a multipart upload, settle) timed, over the
  floor: a bare streamed GET of the same URL (fresh from Graph, untimed) read in parts of the
  adapter's size, each part sent with ``upload_part`` of a plain boto3 client to the same bucket
  (one ``PutObject`` when the file fits one part, as the adapter does), no hashing, no DynamoDB.
  Alternated (the order swapped each round), the first round warms both; median of the per-round
  ratios floor seconds / our seconds.
* :func:`peak_rss`: a fresh interpreter importing the handler and taking one SQS event with the job
  of a ``DOCUMENT_BYTES`` document (MEDIA_MAX_BYTES, the largest file kept); its ``ru_maxrss``.
  The simulator and the moto server stay in this process, so their bytes are not counted. The
  same child taking a photo is measured too (what the function holds whatever the file).

Nothing is recorded unless the work happened: each file must end ``stored`` with Meta's sha256 and
size, and its object be in the bucket with that size; else :class:`MediaBenchError` is raised.

``python -m benchmarks.media [--quick]`` prints the figures as JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from devstack.meta import MediaFile, MetaSimulator
from devstack.provision import Provisioned
from devstack.runtime import ApiCall, LocalFunction, around_api_calls, load_functions
from tests.builders import payloads as b
from whatrack.adapters.dynamo.tables import message_key
from whatrack.adapters.media_files import PART_BYTES
from whatrack.config import MEDIA_MAX_BYTES
from whatrack.domain.media import MediaJob, MediaState

FUNCTION = "MediaFetchFunction"
PHOTOS, PHOTO_BYTES = 20, 180_000  # a WhatsApp photo is sent re-encoded at some 100-300 KB
LARGE_BYTES, ROUNDS = 64 * 1024 * 1024, 7
DOCUMENT_BYTES = MEDIA_MAX_BYTES  # 104,857,600: the largest file the function keeps (not too_large)
FULL = {"photos": PHOTOS, "large_bytes": LARGE_BYTES, "rounds": ROUNDS, "document_bytes": DOCUMENT_BYTES}
QUICK = {"photos": 5, "large_bytes": 16 * 1024 * 1024, "rounds": 2, "document_bytes": 16 * 1024 * 1024}
MB = 1024 * 1024

RSS_CHILD = """
import json, resource, sys
class Context:
    function_name = "media"; memory_limit_in_mb = 512; aws_request_id = "rss"; function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:media"; log_group_name = "/aws/lambda/m"
    log_stream_name = "s"
    def get_remaining_time_in_millis(self): return 300000
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def high_water():
    with open("/proc/self/status") as status:
        return next((int(l.split()[1]) / 1024 for l in status if l.startswith("VmHWM:")), None)
started = peak()
from functions.media_fetch import app
imported = peak()
answer = app.lambda_handler(json.loads(sys.argv[1]), Context())
error = json.dumps(answer)[:300] if answer.get("batchItemFailures") else ""
print(json.dumps({"peak_rss_mb": peak(), "vm_hwm_mb": high_water(), "after_import_mb": imported,
                  "at_start_mb": started, "error": error}))
"""
"""The media function in a fresh interpreter: its handler imported, one SQS event served; ``ru_maxrss``
(MB) at the start, after the import, and at the end (the peak), and the kernel's high-water mark of
its resident set (``VmHWM``) as a check."""
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
"""A small interpreter between this process and the measured one. On Linux a process's ``ru_maxrss``
starts at the resident size of the process it was forked from (exec keeps it): spawned from this
process, which holds the emulator's data and the simulator, the child would report our size, not
its own. Spawned from a launcher of some 10 MB, it reports its own peak."""


class MediaBenchError(RuntimeError):
    """The measured work did not happen as it must (a file not stored, a wrong digest or size)."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise MediaBenchError(message)


# ---------------------------------------------------------------------------------------------- the world
@dataclass
class MediaWorld:
    meta: MetaSimulator
    stack: Provisioned
    env: dict[str, str]
    connection_id: str
    token: str
    functions: dict[str, LocalFunction]
    announced: int = 0
    _clients: dict[str, Any] = field(default_factory=dict)

    def aws(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    @property
    def bucket(self) -> str:
        return self.stack.buckets["MediaBucket"]

    def announce(self, file: MediaFile, kind: str, filename: str | None = None) -> tuple[str, dict[str, Any]]:
        """A customer's message carrying ``file``, through ``webhook_ingest`` and ``live_message``: its
        wamid and the media queue's record of its job (taken off the queue: the caller hands it on)."""
        from devstack.runtime import LambdaContext
        from functions.webhook_ingest import app as ingest
        from tests.builders.events import signed_post

        self.announced += 1
        wamid = f"wamid.benchmedia.{self.announced}"
        content: dict[str, Any] = {"id": file.id, "mime_type": file.mime_type, "sha256": file.sha256_base64}
        if filename is not None:
            content["filename"] = filename
        customer = f"5511{955_000_000 + self.announced}"
        document = b.live_raw(wamid, customer, int(time.time()), kind, content)
        answer = ingest.lambda_handler(signed_post(document), LambdaContext("ingest", 1024, 20))
        require(answer["statusCode"] == 200, f"webhook_ingest answered {answer}")
        [live] = self.take("LiveMessagesQueue", 1)
        result = self.functions["LiveMessageFunction"].invoke({"Records": [live]}) or {}
        require(not result.get("batchItemFailures"), f"live_message failed the message: {result}")
        [job] = self.take("MediaQueue", 1)
        require(MediaJob.decode(job["body"]).wamid == wamid, f"the media queue held another job: {job['body']}")
        return wamid, job

    def take(self, queue: str, expected: int) -> list[dict[str, Any]]:
        """The queue's messages (exactly ``expected``), deleted, as the SQS records Lambda builds."""
        from benchmarks.subprocesses import take_records

        got = take_records(self.aws("sqs"), self.stack.queues[queue], self.stack.queue_arns[queue], expected)
        require(len(got) == expected, f"{queue} held {len(got)} messages, not {expected}")
        return got

    def check_stored(self, wamid: str, file: MediaFile) -> str:
        """The message's file is ``stored`` with Meta's digest and size, its object in the bucket with
        that size: its key. Anything else raises."""
        pk, sk = message_key(self.connection_id, wamid)
        table = self.stack.tables["InboxTable"]
        found = self.aws("dynamodb").get_item(
            TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        item = found.get("Item")
        if item is None:
            raise MediaBenchError(f"no message item for {wamid}")
        state = item.get("media_state", {}).get("S")
        media = json.loads(item.get("media", {}).get("S", "{}"))
        require(state == MediaState.STORED.value, f"{wamid}: media {state}, not stored ({media.get('error')})")
        require(media.get("sha256") == file.sha256_hex, f"{wamid}: sha256 {media.get('sha256')} is not Meta's")
        require(int(media.get("size", -1)) == file.size, f"{wamid}: size {media.get('size')}, not {file.size}")
        key = str(media.get("key"))
        head = self.aws("s3").head_object(Bucket=self.bucket, Key=key)
        require(head["ContentLength"] == file.size, f"{wamid}: object of {head['ContentLength']} bytes")
        return key

    def media_url(self, file: MediaFile) -> str:
        """A fresh download URL for ``file`` from Graph's media endpoint (as the fetcher asks it)."""
        request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 simulator
            f"{self.meta.base_url}/{self.meta.version}/{file.id}?phone_number_id={b.PNID}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return str(json.loads(response.read())["url"])


@contextmanager
def media_world() -> Iterator[MediaWorld]:
    """The simulator serving over HTTP, a provisioned moto server, a connection with its token. The
    environment is the caller's again afterwards."""
    from benchmarks import bench_environment
    from benchmarks.subprocesses import moto_server

    saved = dict(os.environ)
    meta = MetaSimulator()
    try:
        bench_environment()
        os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"  # before the handlers are imported: their loggers read it once
        from tests.integration.harness import Onboarding

        meta.start()
        # read by provision(): every function's Graph is the simulator, its URLs the one download host
        os.environ["GRAPH_API_BASE_URL"] = meta.base_url
        os.environ["MEDIA_DOWNLOAD_HOSTS"] = meta.download_host
        with moto_server() as (env, stack):
            token = meta.business(b.WABA, b.PNID)
            connection = Onboarding(stack).connect(
                b.PNID, mode="cloud_api", syncHistory=False, accessToken=token, wabaId=b.WABA
            )
            yield MediaWorld(meta, stack, env, str(connection["id"]), token, load_functions(stack.template))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        meta.stop()


# ---------------------------------------------------------------------------------------------- requests
Classify = Callable[[str, str, dict[str, Any]], str]
"""(service, operation, parameters) → the name a request is counted under."""


@contextmanager
def counted(classify: Classify | None = None) -> Iterator[Counter[tuple[str, str]]]:
    """Every AWS request made in this process while active, by (service, operation), at botocore
    (``classify`` names the service part instead, from the request)."""
    seen: Counter[tuple[str, str]] = Counter()

    def count(call: ApiCall, client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        seen[(classify(service, operation, params) if classify else service, operation)] += 1
        return call(client, operation, params)

    with around_api_calls(count):
        yield seen


def requests_per_file(world: MediaWorld, photos: int = PHOTOS, size: int = PHOTO_BYTES) -> dict[str, Any]:
    """``photos`` photos of ``size`` bytes, each job alone through the media function's handler."""
    per_file: list[dict[str, Any]] = []
    graph_before = {route: len(world.meta.calls_to(route)) for route in ("media", "media_download")}
    for _ in range(photos):
        file = world.meta.add_media(size=size, mime_type="image/jpeg", phone_number_id=b.PNID)
        wamid, record = world.announce(file, "image")
        with counted() as seen:
            result = world.functions[FUNCTION].invoke({"Records": [record]}) or {}
        require(not result.get("batchItemFailures"), f"media_fetch failed {wamid}: {result}")
        world.check_stored(wamid, file)
        by_service: Counter[str] = Counter()
        for (service, _), n in seen.items():
            by_service[service] += n
        per_file.append(
            {
                "dynamodb": by_service["dynamodb"],
                "s3": by_service["s3"],
                "secretsmanager": by_service["secretsmanager"],
                "other": sum(n for s, n in by_service.items() if s not in {"dynamodb", "s3", "secretsmanager"}),
                "operations": {f"{s}:{o}": n for (s, o), n in sorted(seen.items())},
            }
        )
    graph = {route: len(world.meta.calls_to(route)) - before for route, before in graph_before.items()}

    def mean(service: str) -> float:
        return sum(f[service] for f in per_file) / len(per_file)

    return {
        "files": photos,
        "file_bytes": size,
        "dynamodb_per_file": mean("dynamodb"),
        "s3_per_file": mean("s3"),
        "secretsmanager_per_file": mean("secretsmanager"),
        "other_aws_per_file": mean("other"),
        "graph_calls_per_file": {route: n / photos for route, n in graph.items()},
        "dynamodb_samples": [float(f["dynamodb"]) for f in per_file],
        "first_file": per_file[0],
        "later_files": per_file[1:3],
    }


# ---------------------------------------------------------------------------------------------- throughput
def floor_put(url: str, token: str, s3: Any, bucket: str, key: str, part_bytes: int = PART_BYTES) -> int:
    """A bare streamed GET of ``url`` read in parts of ``part_bytes``, each part sent to the bucket
    (a multipart upload; one ``PutObject`` when the file fits one part): the bytes sent."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - 127.0.0.1
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        part = response.read(part_bytes)
        following = response.read(part_bytes) if len(part) == part_bytes else b""
        if not following:
            s3.put_object(Bucket=bucket, Key=key, Body=part, ContentType="application/octet-stream")
            return len(part)
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/octet-stream")
        parts: list[dict[str, Any]] = []
        sent = 0
        while part:
            number = len(parts) + 1
            answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=part)
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
            sent += len(part)
            part, following = following, (response.read(part_bytes) if following else b"")
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
        )
        return sent


def throughput(world: MediaWorld, size: int = LARGE_BYTES, rounds: int = ROUNDS) -> dict[str, Any]:
    """Our whole fetch of a ``size``-byte file over the floor's GET + put of it, ``rounds`` rounds
    after one that warms both (the order swapped each round)."""
    from benchmarks.history_import import settle
    from whatrack.wiring import media as wiring

    fetcher = wiring.fetcher()
    s3 = boto3.client("s3")  # the floor's own: a plain client, not ours
    file = world.meta.add_media(size=size, mime_type="video/mp4", phone_number_id=b.PNID)
    ours_s: list[float] = []
    floor_s: list[float] = []

    def ours() -> float:
        wamid, record = world.announce(file, "video")
        job = MediaJob.decode(record["body"])
        settle()
        started = time.perf_counter()
        state = fetcher.fetch(job)
        elapsed = time.perf_counter() - started
        require(state is MediaState.STORED, f"the large file ended {state}")
        world.aws("s3").delete_object(Bucket=world.bucket, Key=world.check_stored(wamid, file))
        return elapsed

    def floor(round_: int) -> float:
        url = world.media_url(file)
        key = f"floor/{round_}"
        settle()
        started = time.perf_counter()
        sent = floor_put(url, world.token, s3, world.bucket, key)
        elapsed = time.perf_counter() - started
        length = world.aws("s3").head_object(Bucket=world.bucket, Key=key)["ContentLength"]
        require(sent == length == file.size, f"the floor sent {sent} bytes, kept {length}, not {file.size}")
        world.aws("s3").delete_object(Bucket=world.bucket, Key=key)
        return elapsed

    for round_ in range(rounds + 1):
        if round_ % 2:
            floor_time, our_time = floor(round_), ours()
        else:
            our_time, floor_time = ours(), floor(round_)
        if round_:  # the first round warms both paths (clients, connections, imports)
            ours_s.append(our_time)
            floor_s.append(floor_time)
    ratios = [f / o for f, o in zip(floor_s, ours_s, strict=True)]
    return {
        "file_bytes": size,
        "part_bytes": PART_BYTES,
        "rounds": rounds,
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "our_seconds": ours_s,
        "floor_seconds": floor_s,
        "our_mb_per_s": size / MB / statistics.median(ours_s),
        "floor_mb_per_s": size / MB / statistics.median(floor_s),
    }


# ---------------------------------------------------------------------------------------------- peak RSS
def fresh_process(code: str, args: list[str], env: dict[str, str], timeout: float = 600) -> dict[str, Any]:
    """``code`` run in a fresh interpreter spawned by :data:`LAUNCHER` (so its ``ru_maxrss`` is its
    own, not this process's): the last JSON line it printed."""
    from benchmarks.subprocesses import _child

    try:
        return _child(LAUNCHER, [sys.executable, "-c", code, *args], env, timeout=timeout)
    except RuntimeError as exc:
        raise MediaBenchError(f"the fresh process failed: {exc}") from exc


def peak_rss(world: MediaWorld, size: int = DOCUMENT_BYTES, baseline_size: int = PHOTO_BYTES) -> dict[str, Any]:
    """A fresh process serving the job of a ``size``-byte document; the same for a photo."""
    from benchmarks.subprocesses import compile_ahead

    compile_ahead()  # our bytecode, as the layer ships it (a child compiling our sources is no Lambda)
    out: dict[str, Any] = {}
    for name, file_size, kind, mime in (
        ("document", size, "document", "application/pdf"),
        ("photo", baseline_size, "image", "image/jpeg"),
    ):
        file = world.meta.add_media(size=file_size, mime_type=mime, phone_number_id=b.PNID)
        wamid, record = world.announce(file, kind, filename="contrato.pdf" if kind == "document" else None)
        started = time.perf_counter()
        answer = fresh_process(RSS_CHILD, [json.dumps({"Records": [record]})], world.env)
        seconds = time.perf_counter() - started
        require(not answer["error"], f"media_fetch failed the {name}: {answer['error']}")
        world.aws("s3").delete_object(Bucket=world.bucket, Key=world.check_stored(wamid, file))
        out[name] = {**answer, "file_bytes": file_size, "seconds": seconds}
    return out


# ---------------------------------------------------------------------------------------------- all
def measure(quick: bool = False) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    with media_world() as world:
        requests = requests_per_file(world, sizes["photos"])
        speed = throughput(world, sizes["large_bytes"], sizes["rounds"])
        rss = peak_rss(world, sizes["document_bytes"])
    return {"requests": requests, "throughput": speed, "rss": rss}


if __name__ == "__main__":
    print(json.dumps(measure("--quick" in sys.argv[1:]), indent=2))
