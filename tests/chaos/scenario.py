"""A seeded, realistic onboarding as Meta sends it, and a seeded way of delivering it.

What one seed makes (all of it on one number, built with the documented payload shapes of
``tests/builders/payloads.py``):

* the App's contacts (``smb_app_state_sync``): many adds, one remove;
* three phases of history (``benchmarks.generator``: skewed threads, mixed types, placeholders), in
  chunks of up to 250 KB so that one phase is several chunks;
* the media of every placeholder (history ``messages`` / ``message_echoes`` follow-ups), and live media
  (a photo, a voice note, a document, a sticker; one Meta has forgotten, one it refused as too large):
  the files Meta holds are in :attr:`Scenario.media`, the stack downloads them;
* live messages (customers of the history, who get a history lead's ticket, and new ones), echoes
  typed in the App, their statuses (some before the echo they are about), revokes;
* message fidelity: replies, reactions of both sides (replaced, removed) and edits of live and history
  messages, shuffled with the rest (so some arrive before their message);
* one person known three ways: a contact by phone, a history thread by user id only, and a live
  message that shows both (§8.10: one lead in the end);
* an account update pair at the end (the number disconnected, then reconnected, by their times).

:meth:`Scenario.deliveries` is Meta's side: each webhook sent one to three times, moved a few places
from where it belongs (Meta does not promise order), the account updates last in either order.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from benchmarks.generator import NOW, Shape, generate
from tests.builders import fidelity as f
from tests.builders import payloads as b

CHUNK_BYTES = 250_000
LIVE_AT = NOW + 3_600  # live traffic starts an hour after the history's last day


@dataclass
class Scenario:
    seed: int
    documents: list[dict[str, Any]]
    """In Meta's order, for the builders' number; :func:`retarget` puts them on another."""
    tail: list[dict[str, Any]] = field(default_factory=list)
    """Account updates: delivered after everything else."""
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """The files Meta holds for the media messages: id → (bytes, MIME type)."""
    forgotten: frozenset[str] = frozenset()
    """Media ids Meta no longer serves (announced, then expired)."""

    @property
    def history_messages(self) -> int:
        return sum(
            len(thread["messages"])
            for document in self.documents
            for change in document["entry"][0]["changes"]
            if change["field"] == "history"
            for item in change["value"].get("history", [])
            for thread in item.get("threads", [])
        )

    def deliveries(self) -> list[int]:
        """Indexes into :attr:`all_documents` in the order Meta sends them (with its repeats)."""
        rng = random.Random(self.seed * 7919)
        order: list[int] = []
        for index in range(len(self.documents)):
            order += [index] * rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
        for position in range(len(order)):  # each moved at most a few places
            other = min(len(order) - 1, position + rng.randint(0, 3))
            order[position], order[other] = order[other], order[position]
        tail = list(range(len(self.documents), len(self.documents) + len(self.tail)))
        rng.shuffle(tail)
        return order + [index for index in tail for _ in range(rng.randint(1, 2))]

    @property
    def all_documents(self) -> list[dict[str, Any]]:
        return [*self.documents, *self.tail]


def _threads(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for item in document["entry"][0]["changes"][0]["value"]["history"] for t in item["threads"]]


def live_with_user_id(wamid: str, wa_id: str, user_id: str, ts: int) -> dict[str, Any]:
    message = {"from": wa_id, "from_user_id": user_id, "id": wamid, "timestamp": str(ts), "type": "text"}
    message["text"] = {"body": "sou eu de novo"}
    return b.envelope("messages", {"contacts": [{"wa_id": wa_id, "user_id": user_id}], "messages": [message]})


def file_of(seed: int, name: str, rng: random.Random) -> bytes:
    """Made-up file bytes, different per file, a few kB to a few hundred kB (some several blocks)."""
    block = f"{seed}:{name}:".encode() * 64
    return block * rng.choice((2, 8, 40, 300))


LIVE_MEDIA = (
    ("image", "image/jpeg", {}),
    ("audio", "audio/ogg; codecs=opus", {"voice": True}),
    ("document", "application/pdf", {"filename": "pedido.pdf"}),
    ("sticker", "image/webp", {"animated": False}),
)


def live_media(seed: int, writers: list[str], rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A photo, a voice note, a document and a sticker sent live (each digest as live webhooks carry
    it: base64), a photo whose id Meta has forgotten, and a file Meta refused as too large (131052)."""
    documents, files = [], {}
    for n, (kind, mime_type, extra) in enumerate(LIVE_MEDIA):
        media_id, content = f"chaos{seed}-live-media-{n}", file_of(seed, f"live{n}", rng)
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        item = {"id": media_id, "mime_type": mime_type, "sha256": digest, **extra}
        customer = writers[n % len(writers)]
        documents.append(b.live_raw(f"wamid.chaos{seed}.media{n}", customer, LIVE_AT + 1_500 + n, kind, item))
        files[media_id] = (content, mime_type)
    gone = f"chaos{seed}-forgotten"
    files[gone] = (file_of(seed, "forgotten", rng), "image/jpeg")
    forgotten = b.live_raw(f"wamid.chaos{seed}.gone", writers[0], LIVE_AT + 1_600, "image", {"id": gone})
    too_big = b.live(f"wamid.chaos{seed}.toobig", writers[1 % len(writers)], LIVE_AT + 1_700)
    item = too_big["entry"][0]["changes"][0]["value"]["messages"][0]
    item |= {"type": "unsupported", "errors": [{"code": 131052, "title": "Media file size too big"}]}
    del item["text"]
    return [*documents, forgotten, too_big], files


def annotations(seed: int, writers: list[str], history_thread: dict[str, Any]) -> list[dict[str, Any]]:
    """Replies to, reactions to (both sides; the customer's replaced or removed) and two edits of each
    writer's first live message, and a reaction of the business to a history message."""
    out: list[dict[str, Any]] = []
    for n, customer in enumerate(writers):
        target, at, w = f"wamid.chaos{seed}.live{n}", LIVE_AT + 1_100 + n, f"wamid.chaos{seed}.f{n}"
        out += [
            f.live(customer, f.reaction(f"{w}.like", customer, at, target, "👍")),
            f.live(customer, f.reaction(f"{w}.relike", customer, at + 100, target, "" if n % 2 else "❤️")),
            f.echoes(customer, f.reaction(f"{w}.bizlike", b.BIZ, at + 50, target, "🙏")),
            f.live(customer, f.edit(f"{w}.edit1", customer, at + 200, target, f"mensagem {n} (editada)")),
            f.live(customer, f.edit(f"{w}.edit2", customer, at + 300, target, f"mensagem {n} (de novo)")),
            f.live(customer, f.text(f"{w}.reply", customer, at + 400, "isso", **f.reply_to(target, sender=customer))),
        ]
    customer, first = history_thread["id"], history_thread["messages"][0]
    out.append(f.echoes(customer, f.reaction(f"wamid.chaos{seed}.histlike", b.BIZ, LIVE_AT + 1_050, first["id"], "👀")))
    return out


def onboarding(seed: int, messages: int = 1_200) -> Scenario:
    """The onboarding of ``seed`` with about ``messages`` history messages."""
    rng = random.Random(seed)
    chunks = generate(messages, seed=seed, shape=Shape(max_body_bytes=CHUNK_BYTES)).chunks
    customers = sorted({t["id"] for chunk in chunks for t in _threads(chunk)})
    placeholders = [
        (m["id"], t["id"], int(m["timestamp"]), bool(m["history_context"].get("from_me")))
        for chunk in chunks
        for t in _threads(chunk)
        for m in t["messages"]
        if m["type"] == "media_placeholder"
    ]
    # one person three ways (§8.10): a contact by phone, a history thread by user id only, a live
    # message with both; the thread goes into the first chunk of phase 2
    person, user_id = f"55119{seed:04d}7777", f"BR.chaos{seed:04d}"
    phase_2 = next(c for c in chunks if c["entry"][0]["changes"][0]["value"]["history"][0]["metadata"]["phase"] == 2)
    hidden = b.text(f"wamid.chaos{seed}.uid", None, NOW - 100 * 86_400, from_user_id=user_id)
    phase_2["entry"][0]["changes"][0]["value"]["history"][0]["threads"].append(b.thread(None, hidden, user_id=user_id))

    named = rng.sample(customers, k=max(1, len(customers) // 3))
    only_contacts = [f"55219{seed:04d}{i:04d}" for i in range(3)]
    contacts = b.contacts(
        *(("add", phone, f"Cliente {n}") for n, phone in enumerate([*named, *only_contacts, person])),
    )
    removed = b.contacts(("remove", only_contacts[0], None))
    removed["entry"][0]["changes"][0]["value"]["state_sync"][0]["metadata"]["timestamp"] = str(1751401000 + 60)

    followups = [
        b.media_followup(wamid, customer, ts, outbound=outbound) for wamid, customer, ts, outbound in placeholders
    ]
    media = {f"media-{wamid}": (file_of(seed, wamid, rng), "image/jpeg") for wamid, *_ in placeholders}
    for chunk in chunks:  # the history's own media messages (sent in its last 14 days: Meta still has them)
        for thread in _threads(chunk):
            for message in thread["messages"]:
                held = message.get(message["type"])
                if isinstance(held, dict) and held.get("id"):
                    media[held["id"]] = (file_of(seed, held["id"], rng), held.get("mime_type") or "image/jpeg")
    live: list[dict[str, Any]] = []
    writers = rng.sample(customers, k=min(8, len(customers))) + [f"55319{seed:04d}{i:04d}" for i in range(4)]
    for n, customer in enumerate(writers):
        live.append(b.live(f"wamid.chaos{seed}.live{n}", customer, LIVE_AT + 10 * n, body=f"mensagem {n}"))
    live.append(b.live(f"wamid.chaos{seed}.live.again", writers[0], LIVE_AT + 500, body="de novo"))
    live.append(live_with_user_id(f"wamid.chaos{seed}.both", person, user_id, LIVE_AT + 600))
    echoes, statuses, revokes = [], [], []
    for n, customer in enumerate(rng.sample(customers, k=min(6, len(customers)))):
        wamid = f"wamid.chaos{seed}.echo{n}"
        echoes.append(b.echo(wamid, customer, LIVE_AT + 700 + n))
        statuses += [b.status(wamid, "delivered", LIVE_AT + 800 + n), b.status(wamid, "read", LIVE_AT + 900 + n)]
        if n < 2:
            revokes.append(b.revoke(f"wamid.chaos{seed}.revoke{n}", wamid, customer, LIVE_AT + 1000 + n))

    fidelity = annotations(seed, writers[:4], _threads(chunks[0])[0])
    sent_media, live_files = live_media(seed, writers, rng)
    media.update(live_files)

    documents: list[dict[str, Any]] = [contacts, removed]
    for chunk in chunks:
        documents.append(chunk)
    documents += followups
    rest = live + echoes + statuses[: len(statuses) // 2] + revokes + fidelity + sent_media
    rng.shuffle(rest)
    documents += rest + statuses[len(statuses) // 2 :]
    tail = [
        b.account_update("PARTNER_REMOVED", time=LIVE_AT + 5_000),
        b.account_update("ACCOUNT_RECONNECTED", time=LIVE_AT + 6_000),
    ]
    return Scenario(seed, documents, tail, media, frozenset({f"chaos{seed}-forgotten"}))


retarget = b.for_number
