"""One seed of the chaos replay: the same onboarding delivered twice through one local stack, once
cleanly and once while faults are injected at every boundary, and the two final states compared.

Each run has its own organization, number, WABA and token, so both live in one stack. Meta's side
is played here and by the stack's Meta simulator: every webhook is posted until it is acknowledged
(Meta retries a 5xx), in the scenario's order, with its repeats; the simulator holds the scenario's
media files, which both runs download. With faults, 1 in ``rate`` of the functions' AWS calls fails
(:class:`devstack.faults.FaultInjector`: DynamoDB throttling, transaction conflicts and 5xx, S3 and
SQS errors, handlers dying mid-batch or mid-chunk), and Graph misbehaves on the media calls (5xx,
429, an answer lost, a URL that answers 404, a timeout) and on the sends. Once the tickets are open,
once every change is in (the same tickets open in both runs), an agent answers some of them with a
template (each request posted twice with its key, and again while the API answers 5xx): every reply
must be sent to Meta exactly once, whatever Graph lost on the way,
and end shown as ``read`` through the status webhooks Meta posts back (out of order and repeated
like every webhook here). Once the queues have drained the faults stop,
what ended ``failed`` is re-sent once from the archive (``scripts/replay.py --failed``, the
operator's redrive) and the failed media files are retried (``POST /connections/{id}/media/retry``),
the queues drain again, and the state is read.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.faults import FaultInjector
from devstack.meta import MetaSimulator
from devstack.meta.answers import lost_answer, rate_limited, server_error, too_slow, url_gone
from devstack.server import LocalStack
from tests.builders.events import meta_bytes
from tests.builders.payloads import BIZ
from tests.chaos.scenario import Scenario, onboarding, retarget
from tests.chaos.state import differences, files, scan, snapshot
from tests.localstack import ADMIN_KEY, api, depths, drained, post_webhook, wait_drained
from tests.waiting import subprocess_timeout, wait_until
from whatrack.adapters.archive import archive_key

ROOT = Path(__file__).resolve().parents[2]
MAX_POSTS = 60
REPLIES = 4
"""Tickets answered by an agent in each run (the first ones by their lead's number)."""
TEMPLATE = "chaos_retomar"


@dataclass
class Run:
    label: str
    organization_id: str
    connection_id: str
    phone_number_id: str
    waba_id: str
    api_key: str
    archive_keys: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    """Deliveries answered with a 5xx (and posted again, as Meta does)."""
    retried: str = ""
    replies: list[str] = field(default_factory=list)
    """The agent's replies (their clientMessageIds)."""


@dataclass
class SeedResult:
    seed: int
    identical: bool
    differences: list[str]
    faults: int
    graph_faults: int
    """Graph's answers spoiled on the media calls and the sends (of those scripted, the ones reached)."""
    replies: int
    """The faults run's replies (each sent to Meta once, else the seed is not identical)."""
    replies_read: int
    """Of them, those shown ``read`` at the end (Meta's statuses applied, an unknown answer resolved)."""
    files: dict[str, int]
    """The faults run's media files by state (its connection's counts)."""
    calls: int
    refused: int
    history_messages: int
    deliveries: int
    seconds: float

    def line(self) -> str:
        verdict = "identical" if self.identical else "DIFFERENT"
        return (
            f"seed {self.seed}: {verdict} ({self.history_messages} history messages, {self.deliveries} deliveries, "
            f"{self.faults} faults in {self.calls} AWS calls, {self.graph_faults} Graph faults, "
            f"{self.refused} deliveries refused, media {self.files}, {self.replies} replies sent once "
            f"({self.replies_read} read), "
            f"{self.seconds:.0f} s)"
        )


def open_run(stack: LocalStack, seed: int, label: str, number: int) -> Run:
    status, created = api(stack, "POST", "/admin/organizations", {"name": f"Chaos {seed} {label}"}, ADMIN_KEY)
    assert status == 201, created
    pnid, waba = f"7{seed:06d}{number:08d}", f"8{seed:06d}{number:08d}"
    assert stack.meta is not None, "the chaos replay needs the stack's Meta simulator (its media)"
    token = stack.meta.business(waba, pnid, token=f"EAAG-chaos-{seed}-{label}", display=BIZ)
    stack.meta.template(waba, TEMPLATE, body="Olá {{1}}! Podemos continuar o seu atendimento por aqui?")
    body = {
        "phoneNumberId": pnid,
        "wabaId": waba,
        "displayPhoneNumber": BIZ,
        "mode": "coexistence",
        "syncHistory": True,
        "accessToken": token,
    }
    status, connection = api(stack, "POST", "/connections", body, created["apiKey"])
    assert status == 201, connection
    return Run(label, created["organization"]["id"], connection["connection"]["id"], pnid, waba, created["apiKey"])


def deliver(stack: LocalStack, scenario: Scenario, run: Run) -> None:
    documents = scenario.all_documents
    for index in scenario.deliveries():
        raw = meta_bytes(retarget(documents[index], run.phone_number_id, run.waba_id))
        run.archive_keys[archive_key(raw)] = index
        for _ in range(MAX_POSTS):
            answer = post_webhook(stack, raw)
            if answer == 200:
                break
            if answer < 500:
                raise AssertionError(f"a signed webhook was answered {answer}: Meta would never send it again")
            run.refused += 1
        else:
            raise AssertionError(f"webhook {index} was never acknowledged")


def command(stack: LocalStack, script: str, *args: str) -> str:
    """One of ``scripts/`` against the running local stack (it finds the stack by its port)."""
    environment = {**os.environ, "PORT": str(stack.port), "PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'domain'}"}
    for name in ("AWS_ENDPOINT_URL", "LOG_TABLE_NAME", "REPLAY_QUEUE_URL"):  # the script finds them itself
        environment.pop(name, None)
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "scripts" / script), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=subprocess_timeout(180),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def until_answered(stack: LocalStack, method: str, path: str, run: Run, **options: Any) -> Any:
    """An API call, made again while the API fails (5xx, as a client does with the same key)."""
    for _ in range(MAX_POSTS):
        status, answer = api(stack, method, path, options.get("body"), run.api_key, headers=options.get("headers"))
        if status < 500:
            assert status == options.get("expect", 200), (path, status, answer)
            return answer
    raise AssertionError(f"{method} {path} kept failing")


def answer_tickets(stack: LocalStack, run: Run) -> None:
    """The agent answers the first ``REPLIES`` open tickets (by their lead's number) with a template:
    each request posted twice with its key (a client that retries), the same reply both times."""
    tickets = until_answered(stack, "GET", f"/tickets?connectionId={run.connection_id}&status=open&limit=500", run)
    leads = {t["id"]: until_answered(stack, "GET", f"/leads/{t['leadId']}", run)["lead"] for t in tickets["tickets"]}
    chosen = sorted(tickets["tickets"], key=lambda t: str(leads[t["id"]]["phoneNumber"] or leads[t["id"]]["userId"]))
    for n, ticket in enumerate(chosen[:REPLIES]):
        body = {"template": {"name": TEMPLATE, "language": "pt_BR", "parameters": [f"Cliente {n}"]}}
        headers = {"idempotency-key": f"chaos-{n}"}
        path = f"/tickets/{ticket['id']}/messages"
        first = until_answered(stack, "POST", path, run, body=body, headers=headers, expect=202)
        again = until_answered(stack, "POST", path, run, body=body, headers=headers, expect=202)
        assert again["message"]["clientMessageId"] == first["message"]["clientMessageId"]
        run.replies.append(first["message"]["clientMessageId"])


def sends_of(stack: LocalStack, run: Run) -> dict[str, int]:
    """How many times Meta accepted each of the run's replies (by the id it echoes in statuses)."""
    assert stack.meta is not None
    counted = dict.fromkeys(run.replies, 0)
    for sent in stack.meta.messaging.sent:
        if sent.phone_number_id == run.phone_number_id:
            callback = str(sent.body.get("biz_opaque_callback_data"))
            counted[callback] = counted.get(callback, 0) + 1
    return counted


PENDING = {"received", "routed"}


def settled(stack: LocalStack, run: Run) -> bool:
    """The queues drained and no change of the run still on its way (a change the reconciler
    re-drives is back in a queue for a moment, and its entry is ``routed`` until it is consumed)."""
    if not drained(stack):
        return False
    assert stack.provisioned is not None
    log = scan(stack.aws_endpoint, stack.provisioned.tables["LogTable"])
    return not any(
        e.get("status") in PENDING
        for e in log
        if e.get("kind") == "webhook" and e.get("connection_id") == run.connection_id
    )


def wait_settled(stack: LocalStack, run: Run, timeout: float | None) -> None:
    what = f"the {run.label} run to settle (queues drained, Meta's webhooks posted, no change of it received or routed)"
    assert stack.meta is not None

    def quiet() -> bool:
        return stack.meta is not None and stack.meta.webhooks.pending == 0 and settled(stack, run)

    wait_until(quiet, what, timeout=timeout, steady=3, interval=0.3, seen=lambda: depths(stack))


def finish(stack: LocalStack, run: Run, timeout: float | None) -> dict[str, Any]:
    wait_settled(stack, run, timeout)
    run.retried = command(stack, "replay.py", "--connection", run.connection_id, "--failed").strip()
    # and the media files whose downloads kept failing, as the dashboard's "Tentar de novo" does
    status, answer = api(stack, "POST", f"/connections/{run.connection_id}/media/retry", key=run.api_key)
    assert status == 202, answer
    wait_settled(stack, run, timeout)
    # every change is in: the same tickets are open in both runs, the agent answers the same ones
    answer_tickets(stack, run)
    wait_settled(stack, run, timeout)
    assert stack.provisioned is not None
    state = snapshot(
        stack.aws_endpoint, stack.provisioned.tables, run.organization_id, run.connection_id, run.archive_keys
    )
    # the bytes kept: one object per stored file, none left over (a file that did not match is deleted)
    state["files"] = files(stack.aws_endpoint, stack.provisioned.buckets["MediaBucket"], run.connection_id)
    return state


def hold_media(graph: MetaSimulator, scenario: Scenario) -> None:
    """Meta holds the scenario's files (any number may read them: both runs download the same ids)."""
    for media_id, (content, mime_type) in scenario.media.items():
        graph.add_media(content, media_id=media_id, mime_type=mime_type)
    for media_id in scenario.forgotten:
        graph.expire_media(media_id)


FAULTED_ROUTES = ("media", "media_download", "messages")


def graph_faults(graph: MetaSimulator, seed: int) -> int:
    """Graph misbehaves on the next media calls and sends, as it does: every media fault heals with a
    retry; a send's 429 or 5xx is retried, an answer lost (or too slow) after Meta took the send
    leaves the reply ``unknown`` until Meta's statuses, which echo our id, resolve it."""
    rng = random.Random(seed * 104_729)
    info = [server_error(500), server_error(503), rate_limited(), lost_answer(), too_slow(8.0), server_error(502)]
    downloads = [url_gone(), server_error(503), lost_answer(), url_gone()]
    sends = [rate_limited(), lost_answer(), server_error(503), too_slow(8.0)]
    for faults in (info, downloads, sends):
        rng.shuffle(faults)
    graph.fail_next("media", *info)
    graph.fail_next("media_download", *downloads)
    graph.fail_next("messages", *sends)
    return len(info) + len(downloads) + len(sends)


def graph_faults_left(graph: MetaSimulator) -> int:
    return sum(len(graph.script.get(route, [])) for route in FAULTED_ROUTES)


def run_seed(
    stack: LocalStack, seed: int, *, rate: float = 0.04, messages: int = 1_200, timeout: float | None = None
) -> SeedResult:
    """``timeout`` bounds each wait for the stack to settle; ``None``: the running test's budget (or
    no bound outside pytest)."""
    started = time.monotonic()
    scenario = onboarding(seed, messages)
    assert stack.meta is not None, "the chaos replay needs the stack's Meta simulator (its media)"
    hold_media(stack.meta, scenario)
    clean = open_run(stack, seed, "clean", 1)
    deliver(stack, scenario, clean)
    expected = finish(stack, clean, timeout)
    chaotic = open_run(stack, seed, "faults", 2)
    scripted = graph_faults(stack.meta, seed)
    with FaultInjector(rate=rate, seed=seed).active() as faults:
        deliver(stack, scenario, chaotic)
        wait_drained(stack, timeout=timeout)
    found = finish(stack, chaotic, timeout)
    graph_faulted = scripted - graph_faults_left(stack.meta)
    for route in FAULTED_ROUTES:  # what the run did not reach is not the next seed's
        stack.meta.script.pop(route, None)
    diff = differences(expected, found, limit=40)
    for run in (clean, chaotic):  # §8.12: each reply reached Meta once, however its answers were lost
        sent = sends_of(stack, run)
        if len(run.replies) != REPLIES or any(n != 1 for n in sent.values()):
            diff.append(f"{run.label} run: replies sent {sent} (each exactly once expected, {REPLIES} replies)")
    return SeedResult(
        seed=seed,
        identical=not diff,
        differences=diff,
        faults=faults.total,
        graph_faults=graph_faulted,
        replies=len(chaotic.replies),
        replies_read=sum(1 for reply in found["replies"].values() if reply["shown"] == "read"),
        files={k.removeprefix("files_"): v for k, v in found["connection"].items() if k.startswith("files_") and v},
        calls=sum(faults.calls.values()),
        refused=chaotic.refused,
        history_messages=scenario.history_messages,
        deliveries=len(scenario.deliveries()),
        seconds=time.monotonic() - started,
    )
