"""A seeded, realistic onboarding history: what Meta sends after a business accepts history sync.

Shapes follow ``tests/builders/payloads.py`` (the documented Meta payloads):

* **three phases** as Meta sends them: phase 0 is the last day, phase 1 days 1-90, phase 2 days
  90-180; ``chunk_order`` restarts at 1 in each phase and ``progress`` rises to 100 over the whole
  history (the last chunk of phase 2 says 100);
* **skewed thread sizes**: most customers wrote a few times (1-5 messages), some a few dozen, a few
  hundreds (a mix of a geometric head, a lognormal body and a heavy tail);
* **mixed types**: text (inbound, and OUTBOUND from the business number with ``from_me``), media
  placeholders, images with captions, and raw types (location, contacts, interactive);
* **chunks packed up to Meta's 3 MB body limit** (whole threads while they fit; a thread too big for
  the room left is split across chunks, as Meta does with long conversations).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from tests.builders.payloads import BIZ, PNID, chunk

MAX_BODY_BYTES = 3_000_000
"""Meta's cap on a webhook body (3 MB); a chunk's serialized body never exceeds it."""

DAY = 86_400
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z: fixed, so the history is the same on every run
PHASE_DAYS = ((0, 1), (1, 90), (90, 180))
"""Age range (days before ``NOW``) of each phase's messages."""

WORDS = [
    "oi",
    "olá",
    "bom",
    "dia",
    "boa",
    "tarde",
    "tudo",
    "bem",
    "obrigado",
    "valeu",
    "preço",
    "quanto",
    "custa",
    "tem",
    "stock",
    "modelo",
    "azul",
    "entrega",
    "frete",
    "pix",
    "cartão",
    "amanhã",
    "hoje",
    "pedido",
    "número",
    "endereço",
    "loja",
    "aberta",
    "horário",
    "até",
    "já",
    "perfeito",
    "combinado",
    "certo",
    "pode",
    "ser",
    "então",
    "vou",
    "ver",
    "aguardo",
    "retorno",
    "😀",
    "👍",
    "🙏",
    "¿tienen",
    "¡gracias!",
]


@dataclass(frozen=True)
class Shape:
    """The mix; the defaults are what a small business's last six months look like."""

    short_share: float = 0.78  # threads of 1-5 messages
    long_share: float = 0.02  # threads of hundreds of messages
    outbound_share: float = 0.4
    placeholder_share: float = 0.08
    image_share: float = 0.05
    raw_share: float = 0.03  # location, contacts, interactive
    max_body_bytes: int = MAX_BODY_BYTES


@dataclass
class History:
    """One onboarding's history: the chunks (Meta documents, in delivery order) and their stats."""

    chunks: list[dict[str, Any]] = field(default_factory=list)
    thread_sizes: list[int] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(self.thread_sizes)

    def bodies(self) -> list[bytes]:
        return [body_bytes(document) for document in self.chunks]


def body_bytes(document: dict[str, Any]) -> bytes:
    """As Meta sends it (compact, ASCII-escaped: :func:`tests.builders.events.meta_bytes`)."""
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode()


def thread_size(rng: random.Random, shape: Shape) -> int:
    draw = rng.random()
    if draw < shape.short_share:
        # geometric head: 1 is the most common, 5 the least
        return min(5, 1 + int(math.log(1 - rng.random()) / math.log(0.55)))
    if draw < shape.short_share + shape.long_share:
        return rng.randint(100, 800)
    return max(6, min(99, int(rng.lognormvariate(math.log(14), 0.7))))


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def message(rng: random.Random, shape: Shape, wamid: str, customer: str, ts: int) -> dict[str, Any]:
    outbound = rng.random() < shape.outbound_share
    sender = BIZ if outbound else customer
    status = rng.choice(("DELIVERED", "READ", "READ")) if outbound else "READ"
    context: dict[str, Any] = {"status": status, **({"from_me": True} if outbound else {})}
    item: dict[str, Any] = {"from": sender, "id": wamid, "timestamp": str(ts), "history_context": context}
    draw = rng.random()
    if draw < shape.placeholder_share:
        return item | {"type": "media_placeholder"}
    draw -= shape.placeholder_share
    if draw < shape.image_share:
        image = {"mime_type": "image/jpeg", "sha256": f"{rng.getrandbits(128):032x}", "id": f"media.{wamid}"}
        return item | {"type": "image", "image": image | {"caption": _text(rng, 1, 8)}}
    draw -= shape.image_share
    if draw < shape.raw_share:
        kind = rng.choice(("location", "contacts", "interactive"))
        content: Any
        if kind == "location":
            content = {"latitude": -23.55 + rng.random(), "longitude": -46.63 + rng.random(), "name": "Loja"}
        elif kind == "contacts":
            phone = f"5511{rng.randint(900000000, 999999999)}"
            content = [{"name": {"formatted_name": "Contato", "first_name": "Contato"}, "phones": [{"phone": phone}]}]
        else:
            content = {"type": "button_reply", "button_reply": {"id": f"btn{rng.randint(1, 3)}", "title": "Sim"}}
        return item | {"type": kind, kind: content}
    return item | {"type": "text", "text": {"body": _text(rng, 2, 30)}}


def _thread(customer: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": customer, "context": {"wa_id": customer}, "messages": messages}


def generate(messages: int, seed: int = 11, shape: Shape | None = None) -> History:
    """About ``messages`` messages (whole threads: the last one may overshoot) in packed chunks."""
    shape = shape or Shape()
    rng = random.Random(seed)  # noqa: S311 - a reproducible history, not a secret
    history = History()
    # threads: (customer, [(ts, wamid)]) with message ages spread over 180 days, recent ones denser
    per_phase: list[list[dict[str, Any]]] = [[], [], []]
    total = 0
    number = 0
    while total < messages:
        size = thread_size(rng, shape)
        history.thread_sizes.append(size)
        total += size
        number += 1
        customer = f"55{rng.randint(11, 99)}9{number:08d}"
        last = NOW - int(DAY * 180 * rng.random() ** 2)  # most recent activity: skewed towards today
        span = int(DAY * rng.uniform(0.01, 1.0) * min(180, 1 + size / 3))
        stamps = sorted(max(NOW - 180 * DAY + 1, last - int(span * rng.random())) for _ in range(size))
        items = [message(rng, shape, f"wamid.H{number:06d}.{i:04d}", customer, ts) for i, ts in enumerate(stamps)]
        for phase, (young, old) in enumerate(PHASE_DAYS):
            part = [m for m in items if young * DAY <= NOW - int(m["timestamp"]) < old * DAY]
            if part:
                per_phase[phase].append(_thread(customer, part))
    bodies: list[tuple[int, list[dict[str, Any]]]] = []
    for phase, threads in enumerate(per_phase):
        rng.shuffle(threads)
        bodies += [(phase, packed) for packed in _pack(threads, shape.max_body_bytes)]
    counts = [sum(len(t["messages"]) for t in threads) for _, threads in bodies]
    done = 0
    orders = [0, 0, 0]
    for (phase, threads), count in zip(bodies, counts, strict=True):
        done += count
        orders[phase] += 1
        progress = 100 if done == total else min(99, done * 100 // total)
        history.chunks.append(chunk(phase, orders[phase], progress, *threads))
    return history


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=True, separators=(",", ":")))


def _pack(threads: list[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    """Threads into bodies of at most ``limit`` bytes (a big thread is split across chunks)."""
    overhead = len(body_bytes(chunk(0, 100, 100))) + 1
    packed: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    used = overhead
    for whole in threads:
        pending = [whole]
        while pending:
            thread = pending.pop()
            size = _size(thread) + 1
            if used + size <= limit:
                current.append(thread)
                used += size
                continue
            room = limit - used - _size(_thread(thread["id"], [])) - 1
            messages = thread["messages"]
            fits = 0
            while fits < len(messages) and room - (_size(messages[fits]) + 1) >= 0:
                room -= _size(messages[fits]) + 1
                fits += 1
            if not fits and not current:
                raise ValueError("a single message is larger than a whole body")
            if fits:
                current.append(_thread(thread["id"], messages[:fits]))
            packed.append(current)
            current, used = [], overhead
            pending.append(_thread(thread["id"], messages[fits:]))
    if current:
        packed.append(current)
    return packed


def uniform_chunk(threads: int, per_thread: int, *, seed: int = 5, phase: int = 1) -> dict[str, Any]:
    """One chunk of ``threads`` x ``per_thread`` text messages (the issue's 200 x 5 and 200 x 20 cases)."""
    rng = random.Random(seed)  # noqa: S311
    shape = Shape(placeholder_share=0, image_share=0, raw_share=0)
    made = []
    for t in range(threads):
        customer = f"55219{seed:02d}{t:06d}"
        made.append(
            _thread(
                customer,
                [
                    message(rng, shape, f"wamid.U{seed}.{t}.{m}", customer, NOW - DAY * 10 + t * 100 + m)
                    for m in range(per_thread)
                ],
            )
        )
    return chunk(phase, 1, 50, *made)


def chunk_messages(document: dict[str, Any]) -> int:
    return sum(len(t["messages"]) for h in document["entry"][0]["changes"][0]["value"]["history"] for t in h["threads"])


__all__ = ["MAX_BODY_BYTES", "PNID", "History", "Shape", "body_bytes", "chunk_messages", "generate", "uniform_chunk"]
