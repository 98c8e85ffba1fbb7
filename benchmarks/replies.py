"""Issue 22's reply keys: an agent's reply from ``POST /tickets/{id}/messages`` to ``read``, and the
outbox's sustained send rate against Meta's per-number throughput.

Both sides are real HTTP on 127.0.0.1: the Meta simulator (``devstack.meta``, its server mode)
answers Graph's sends and enforces Coexistence's 20 messages per second per number (``130429``
past it); a moto server (``benchmarks.subprocesses.moto_server``, the stack of ``template.yaml``)
answers DynamoDB, SQS and Secrets Manager. One ``cloud_api`` connection holds the business token;
each customer writes live first (a ticket, Meta's window open), through the real ``webhook_ingest``
and ``live_message`` handlers.

* :func:`requests_per_reply`: ``REPLIES`` replies, each on its own: the status API's handler takes
  the ``POST``; the replies queue's message goes to the ``reply_send`` handler (Lambda's own
  receive and delete are not ours, so not counted); the three status webhooks the simulator posts
  back (``sent``, ``delivered``, ``read``) go through ``webhook_ingest`` and ``live_message``. Every
  AWS request of our handlers is counted at botocore, by step and operation. The key counts the
  reply's own requests: what every API call costs whatever it asks (the API key's and its
  organization's reads) and what every webhook costs whatever it carries (``webhook_ingest``'s
  archive, route and log; the consumer's outcome on the log) are counted beside it.
* :func:`send_rate`: ``BURST`` replies to ``BURST`` customers (one conversation each: their queue's
  message groups all ready at once) taken by ``SENDERS`` ``reply_send`` executions in parallel, as
  Lambda scales a FIFO queue out by message group; sends per second from the first to the last
  send Meta accepted, over Meta's 20, and the number of ``130429`` answers.

Nothing is recorded unless the work happened: every reply must end ``read`` (the requests) or
``accepted`` with its wamid (the rate), each sent to Meta exactly once; else
:class:`ReplyBenchError` is raised. ``python -m benchmarks.replies [--quick]`` prints the figures.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from benchmarks.media import counted as media_counted
from devstack.meta import MetaSimulator, StatusPlan
from devstack.provision import Provisioned
from devstack.runtime import LocalFunction, load_functions
from tests.builders import payloads as b
from tests.builders.events import http_event, signed_post

REPLIES = 10
BURST, SENDERS = 200, 8
FULL = {"replies": REPLIES, "burst": BURST}
QUICK = {"replies": 3, "burst": 60}
META_RATE = 20.0  # messages per second per Coexistence number


class ReplyBenchError(RuntimeError):
    """The reply path did not do its work: no figure is recorded."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ReplyBenchError(message)


@dataclass
class RepliesWorld:
    meta: MetaSimulator
    stack: Provisioned
    api_key: str
    connection_id: str
    functions: dict[str, LocalFunction]
    webhooks: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    customers: int = 0
    patience: float = 30.0
    """Seconds to wait for the simulator's status webhooks."""
    _clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def aws(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        raw = None if body is None else json.dumps(body).encode()
        path, _, query = path.partition("?")
        event = http_event(
            method,
            path,
            body=raw,
            query=query,
            headers={"authorization": f"Bearer {self.api_key}", **(headers or {})},
        )
        answer = self.functions["StatusApiFunction"].invoke(event)
        return answer["statusCode"], json.loads(answer["body"])

    def ingest(self, event: dict[str, Any]) -> None:
        answer = self.functions["WebhookIngestFunction"].invoke(event)
        require(answer["statusCode"] == 200, f"webhook_ingest answered {answer}")

    def consume(self, queue: str, function: str, expected: int) -> None:
        records = self.take(queue, expected)
        result = self.functions[function].invoke({"Records": records}) or {}
        require(not result.get("batchItemFailures"), f"{function} failed: {result}")

    def take(self, queue: str, expected: int) -> list[dict[str, Any]]:
        """The queue's messages (exactly ``expected``), deleted, as the SQS records Lambda builds."""
        from benchmarks.subprocesses import take_records

        got = take_records(self.aws("sqs"), self.stack.queues[queue], self.stack.queue_arns[queue], expected)
        require(len(got) == expected, f"{queue} held {len(got)} messages, not {expected}")
        return got

    def customer_writes(self) -> str:
        """A new customer's live message: a ticket with Meta's window open. Its ticket id."""
        self.customers += 1
        customer = f"5511{966_000_000 + self.customers}"
        document = b.live(f"wamid.benchreply.in{self.customers}", customer, int(time.time()), "Oi!")
        self.meta.customer_wrote(b.PNID, customer)
        self.ingest(signed_post(document))
        self.consume("LiveMessagesQueue", "LiveMessageFunction", 1)
        _, leads = self.api("GET", f"/leads?phoneNumber=+{customer}")
        [lead] = leads["leads"]
        _, tickets = self.api("GET", f"/tickets?connectionId={self.connection_id}&status=open&limit=500")
        [ticket] = [t for t in tickets["tickets"] if t["leadId"] == lead["id"]]
        return str(ticket["id"])

    def reply(self, ticket_id: str, text: str) -> dict[str, Any]:
        status, answer = self.api(
            "POST", f"/tickets/{ticket_id}/messages", {"text": text}, {"idempotency-key": f"bench-{ticket_id}"}
        )
        require(status == 202, f"the reply was refused: {status} {answer}")
        return dict(answer["message"])

    def shown(self, ticket_id: str, client_id: str) -> dict[str, Any]:
        _, detail = self.api("GET", f"/tickets/{ticket_id}?latest=1&limit=20")
        [found] = [m for m in detail["ticket"]["messages"] if m.get("clientMessageId") == client_id]
        return dict(found)

    def sends_of(self, client_id: str) -> int:
        return sum(1 for s in self.meta.messaging.sent if s.body.get("biz_opaque_callback_data") == client_id)

    def collect(self, raw: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            self.webhooks.append((raw, headers))
        return 200

    def wait_webhooks(self, count: int) -> list[tuple[bytes, dict[str, str]]]:
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.webhooks) >= count:
                    taken, self.webhooks = self.webhooks[:count], self.webhooks[count:]
                    return taken
            time.sleep(0.01)
        raise ReplyBenchError(f"the simulator posted {len(self.webhooks)} status webhooks, not {count}")


@contextmanager
def replies_world(statuses: StatusPlan | None = None) -> Iterator[RepliesWorld]:
    """The simulator serving Graph over HTTP (its webhooks collected, not posted), a provisioned moto
    server, a connection with its token. The environment is the caller's again afterwards."""
    from benchmarks import bench_environment
    from benchmarks.subprocesses import moto_server

    saved = dict(os.environ)
    meta = MetaSimulator(statuses=statuses or StatusPlan(sent=0.0, delivered=0.0, read=0.0))
    try:
        bench_environment()
        os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
        from tests.integration.harness import Onboarding

        meta.start()
        os.environ["GRAPH_API_BASE_URL"] = meta.base_url
        with moto_server() as (_, stack):
            token = meta.business(b.WABA, b.PNID)
            onboarding = Onboarding(stack)
            connection = onboarding.connect(
                b.PNID, mode="cloud_api", syncHistory=False, accessToken=token, wabaId=b.WABA
            )
            world = RepliesWorld(meta, stack, onboarding.api_key, str(connection["id"]), load_functions(stack.template))
            meta.deliver_to(world.collect)
            yield world
    finally:
        os.environ.clear()
        os.environ.update(saved)
        meta.stop()


# ---------------------------------------------------------------------------------------------- requests
OVERHEAD = {
    ("GetItem", "APIKEY#"): "api key",  # every API call: its key...
    ("GetItem", "ORG#"): "api key",  # ...and its organization
    ("UpdateItem", "LOG#"): "webhook log",  # every webhook's outcome
    ("UpdateItem", "CONN#"): "inbox activity",  # every change applied: the open screens' ETag (D-49)
}


def _overhead(service: str, operation: str, params: dict[str, Any]) -> str:
    """The service, or ``overhead:<what>`` for what any API call or webhook costs whatever it carries."""
    key = params.get("Key")
    pk = str(((key or {}).get("pk") or {}).get("S", "")) if isinstance(key, dict) else ""
    what = next((what for (op, prefix), what in OVERHEAD.items() if op == operation and pk.startswith(prefix)), None)
    return f"overhead:{what}" if what else service


def counted() -> AbstractContextManager[Counter[tuple[str, str]]]:
    """Every AWS request made in this process while active, the overhead named apart."""
    return media_counted(_overhead)


def _own(seen: Counter[tuple[str, str]]) -> int:
    return sum(n for (service, _), n in seen.items() if not service.startswith("overhead:"))


def _by_service(seen: Counter[tuple[str, str]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for (service, _), n in seen.items():
        out[service] += n
    return out


def requests_per_reply(world: RepliesWorld, replies: int = REPLIES) -> dict[str, Any]:
    """``replies`` replies, each alone from the POST to ``read``; AWS requests of each step."""
    per_reply: list[dict[str, Any]] = []
    for n in range(replies):
        ticket_id = world.customer_writes()
        steps: dict[str, Counter[tuple[str, str]]] = {}
        with counted() as seen:
            message = world.reply(ticket_id, f"Resposta {n}")
        steps["post"] = seen
        [record] = world.take("RepliesQueue", 1)
        with counted() as seen:
            result = world.functions["ReplySendFunction"].invoke({"Records": [record]}) or {}
        require(not result.get("batchItemFailures"), f"reply_send failed: {result}")
        steps["send"] = seen
        ingest: Counter[tuple[str, str]] = Counter()
        statuses: Counter[tuple[str, str]] = Counter()
        for raw, headers in world.wait_webhooks(3):
            with counted() as seen:
                world.ingest(http_event("POST", "/webhook", body=raw, headers=headers))
            ingest.update(seen)
            records = world.take("LiveMessagesQueue", 1)
            with counted() as seen:
                result = world.functions["LiveMessageFunction"].invoke({"Records": records}) or {}
            require(not result.get("batchItemFailures"), f"live_message failed a status: {result}")
            statuses.update(seen)
        steps["statuses"] = statuses
        client_id = message["clientMessageId"]
        shown = world.shown(ticket_id, client_id)
        require(shown["status"] == "read", f"reply {client_id} ended {shown['status']}, not read")
        require(world.sends_of(client_id) == 1, f"reply {client_id} was sent {world.sends_of(client_id)} times")
        every = Counter[tuple[str, str]]()
        for name in ("post", "send", "statuses"):
            every.update(steps[name])
        per_reply.append(
            {
                "aws": _own(every),
                "with_overhead": sum(every.values()),
                "by_step": {name: _own(c) for name, c in steps.items()},
                "by_service": dict(_by_service(every)),
                "ingest_of_three_webhooks": sum(ingest.values()),
                "operations": {name: {f"{s}:{o}": k for (s, o), k in sorted(c.items())} for name, c in steps.items()},
            }
        )
    return {
        "replies": replies,
        "aws_per_reply": sum(r["aws"] for r in per_reply) / replies,
        "samples": [float(r["aws"]) for r in per_reply],
        "with_overhead_per_reply": sum(r["with_overhead"] for r in per_reply) / replies,
        "ingest_per_reply": sum(r["ingest_of_three_webhooks"] for r in per_reply) / replies,
        "first": per_reply[0],
        "later": per_reply[1:3],
    }


# ---------------------------------------------------------------------------------------------- send rate
def send_rate(world: RepliesWorld, burst: int = BURST, senders: int = SENDERS) -> dict[str, Any]:
    """``burst`` replies to as many conversations, ``senders`` reply_send executions taking them."""
    tickets = [world.customer_writes() for _ in range(burst)]
    accepted = [world.reply(ticket, "Promoção de hoje")["clientMessageId"] for ticket in tickets]
    records = world.take("RepliesQueue", burst)
    model = world.functions["ReplySendFunction"]
    functions = [
        LocalFunction(model.logical_id, model.module, model.handler_name, model.timeout, model.memory)
        for _ in range(senders)
    ]
    pending = list(records)
    lock = threading.Lock()
    retried: list[dict[str, Any]] = []
    before = len(world.meta.messaging.sent)
    throttled_before = world.meta.messaging.throttled

    def run(function: LocalFunction) -> None:
        while True:
            with lock:
                if not pending:
                    return
                record = pending.pop()
            try:  # a record that failed comes back (at once here: the rate is the pace's, not SQS's)
                failed = bool((function.invoke({"Records": [record]}) or {}).get("batchItemFailures"))
            except Exception:  # every record failed: the handler raises (Lambda's rule)
                failed = True
            if failed:
                with lock:
                    retried.append(record)
                    pending.append(record)

    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    sent = world.meta.messaging.sent[before:]
    require(len(sent) == burst, f"Meta accepted {len(sent)} sends, not {burst}")
    require(all(world.sends_of(c) == 1 for c in accepted), "a reply was sent more than once")
    stamps = sorted(s.at for s in sent)
    span = stamps[-1] - stamps[0]
    rate = (len(stamps) - 1) / span if span > 0 else float("inf")
    throttled = world.meta.messaging.throttled - throttled_before
    return {
        "replies": burst,
        "senders": senders,
        "seconds": elapsed,
        "sends_per_second": rate,
        "ratio": rate / META_RATE,
        "throttled_130429": throttled,
        "redelivered": len(retried),
    }


def measure(quick: bool = False) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    with replies_world() as world:
        requests = requests_per_reply(world, sizes["replies"])
        rate = send_rate(world, sizes["burst"])
    return {"requests": requests, "rate": rate}


if __name__ == "__main__":
    print(json.dumps(measure("--quick" in sys.argv[1:]), indent=2))
