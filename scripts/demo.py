"""`make demo`: the whole product in a minute, in a terminal.

Uses the local stack at 127.0.0.1:$PORT when one is running with its Meta simulator (``make run
META=simulator``), else starts one in this process with it (its functions' log lines go to
``logs/demo-functions.log``, so the terminal keeps to the story). Meta's side is the simulator: the
business and its token are registered there, the connection is made with the token (the stack
checks the number with Meta and asks it for the contacts, then the history), and the onboarding of
``events/demo/`` (contacts, history chunks out of order and duplicated, a photo as a history media
follow-up, live messages, a voice note, a sticker, App echoes, one with a PDF) is posted by the
simulator, signed, as Meta posts it; the simulator holds the files of ``events/demo/media/``, which
the stack downloads, checks and keeps. Then it prints the instance card, the sync report, the media
kept and a ticket's timeline, and ends with the dashboard's address and the organization's API key.
A stack the demo started keeps serving the dashboard until Ctrl-C (``--no-wait`` stops it at once,
for scripts and tests); ``--slow`` (``make demo-live``) waits 5 s between steps, to watch the card
move in the dashboard; ``--timeout SECONDS`` (default 180) bounds the wait for the onboarding.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "events" / "demo"
FUNCTION_LOG = Path(os.environ.get("DEMO_FUNCTION_LOG") or ROOT / "logs" / "demo-functions.log")
EVENT_PNID, EVENT_WABA = "209988776655443", "401122334455667"
DEFAULT_TIMEOUT_SECONDS = 180.0
BUSINESS_NUMBER = "5511955550100"
MEDIA = {  # the media ids of events/demo/ and the files Meta (the simulator) serves for them
    "880011223344": ("photo.jpg", "image/jpeg"),
    "880011223345": ("voice.ogg", "audio/ogg; codecs=opus"),
    "880011223346": ("orcamento.pdf", "application/pdf"),
    "880011223347": ("sticker.webp", "image/webp"),
}


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        key: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        all_headers = {"content-type": "application/json", **(headers or {})}
        if key:
            all_headers["authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=all_headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                text = response.read().decode()
                return response.status, json.loads(text) if text.startswith(("{", "[")) else text
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode() or "{}")


def running(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/health", timeout=1) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except OSError:
        return False


def hold_media(meta: Client, phone_number_id: str) -> dict[str, str]:
    """Meta (the simulator) holds the demo's files for this number: this run's media id of each."""
    ids = {}
    for event_id, (name, mime_type) in MEDIA.items():
        content = base64.b64encode((DEMO / "media" / name).read_bytes()).decode()
        body = {"mimeType": mime_type, "contentBase64": content, "phoneNumberId": phone_number_id}
        status, held = meta.call("POST", "/_simulator/media", body)
        if status != 201:
            raise SystemExit(f"the Meta simulator refused the file {name} ({status}): {held}")
        ids[event_id] = str(held["id"])
    return ids


LAST_MESSAGE_AGO_SECONDS = 300
"""The demo's latest live message, this long before the run: its windows are open and counting down."""


def _timestamps(value: Any) -> list[int]:
    """Every ``timestamp`` of a webhook document (Meta's unix seconds, as strings)."""
    if isinstance(value, dict):
        found = [int(v) for k, v in value.items() if k == "timestamp" and isinstance(v, str) and v.isdigit()]
        return found + [t for v in value.values() for t in _timestamps(v)]
    if isinstance(value, list):
        return [t for v in value for t in _timestamps(v)]
    return []


def _shifted(value: Any, seconds: int) -> Any:
    if isinstance(value, dict):
        return {
            k: str(int(v) + seconds)
            if k == "timestamp" and isinstance(v, str) and v.isdigit()
            else _shifted(v, seconds)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_shifted(v, seconds) for v in value]
    return value


def demo_shift(now: float | None = None) -> int:
    """Seconds that move the onboarding of ``events/demo/`` to today: its latest live message
    ``LAST_MESSAGE_AGO_SECONDS`` ago, its history within Meta's 180 days before it."""
    latest = max(t for path in DEMO.glob("*.json") for t in _timestamps(json.loads(path.read_text(encoding="utf-8"))))
    return int(time.time() if now is None else now) - LAST_MESSAGE_AGO_SECONDS - latest


def replay(meta: Client, ids: dict[str, str], pause: float = 0.0) -> None:
    """Meta (the simulator) posts each webhook of the onboarding to the stack, signed, for this run's ids,
    moved to today (``demo_shift``): the windows it opens are open, the history is recent."""
    shift = demo_shift()
    for path in sorted(DEMO.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        for event_id, run_id in ids.items():
            text = text.replace(event_id, run_id)
        document = _shifted(json.loads(text), shift)
        status, answer = meta.call("POST", "/_simulator/webhooks", document)
        print(f"  Meta → POST /webhook  {path.stem:28s} -> {answer.get('status', status)}")
        if status != 200 or answer.get("status") != 200:
            raise SystemExit(f"the webhook was answered {answer.get('status', status)}")
        time.sleep(pause or (0.3 if "history" in path.stem else 0.6))  # let each step land, as in real life


def wait_for(client: Client, key: str, connection_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, card = client.call("GET", f"/connections/{connection_id}", key=key)
        _, tickets = client.call("GET", f"/tickets?connectionId={connection_id}", key=key)
        sync = card["connection"]["historySync"]
        files = card["connection"]["media"]
        done = sync["status"] == "completed" and sync["mediaPending"] == 0 and len(tickets["tickets"]) >= 2
        if done and files["pending"] == 0 and files["stored"] >= len(MEDIA):
            return dict(card["connection"])
        time.sleep(0.5)
    raise SystemExit(f"the onboarding did not finish within {timeout:.0f} s")


def show(client: Client, key: str, connection: dict[str, Any]) -> None:
    sync = connection["historySync"]
    print("\n== Instance card ==")
    print(
        f"  {connection['displayName']}  +{connection['displayPhoneNumber']}  ({connection['mode']}, "
        f"{connection['connectionStatus']})"
    )
    print(
        f"  {connection['badge']['label']}  -  {sync['statusLabel']}  (phase {sync['phase']}, "
        f"chunk {sync['chunkOrder']}, {sync['progress']}%)"
    )
    print(
        f"  {sync['messagesImported']} messages, {sync['threadsImported']} conversations, "
        f"{sync['contactsImported']} contacts imported; media pending: {sync['mediaPending']}"
    )
    print(f"  Histórico + nova msg: {connection['historyLeadsWithNewMessages']}")
    asked = ", ".join(f"{r['syncType']} ({r['outcome']})" for r in sync.get("requests") or [])
    print(f"  asked of Meta: {asked or 'nothing'}")
    _, detail = client.call("GET", f"/connections/{connection['id']}/history-sync", key=key)
    report = detail["report"]
    print("\n== Sync report ==")
    print(f"  chunks: {[(c['phase'], c['chunkOrder'], c['status']) for c in detail['chunks']]}")
    print(f"  by phase: {report['messagesByPhase']}  by direction: {report['messagesByDirection']}")
    print(f"  media: {report['mediaReceived']}/{report['mediaPlaceholders']} received; gaps: {report['chunkGaps']}")
    files = connection["media"]
    print("\n== Media kept ==")
    print("  " + ", ".join(f"{state}: {count}" for state, count in files.items() if count))
    _, tickets = client.call("GET", f"/tickets?connectionId={connection['id']}", key=key)
    print("\n== Tickets ==")
    for ticket in tickets["tickets"]:
        print(f"  {ticket['id']}  {ticket['originatedFrom']:13s} window: {ticket['messageWindowExpiresAt']}")
    chosen = next(t for t in tickets["tickets"] if t["originatedFrom"] == "history_lead")
    _, full = client.call("GET", f"/tickets/{chosen['id']}", key=key)
    lead = full["ticket"]["lead"]
    print(f"\n== Ticket timeline: {lead['pushName']} {lead['phoneNumber']} (lead source: {lead['source']}) ==")
    for message in full["ticket"]["messages"]:
        arrow = "→" if message["direction"] == "OUTBOUND" else "←"
        print(f"  {message['timestamp'][:16]}  {arrow} [{message['source']:8s}] {described(message)}")
    _, leads = client.call("GET", f"/leads?connectionId={connection['id']}", key=key)
    print("\n== Media messages ==")
    for lead in leads["leads"]:
        _, detail = client.call("GET", f"/leads/{lead['id']}", key=key)
        for conversation in detail["conversations"]:
            _, page = client.call("GET", f"/conversations/{conversation['id']}/messages", key=key)
            for message in page["messages"]:
                if message.get("media") and message["media"].get("state") == "stored":
                    print(f"  {lead['phoneNumber']}  {described(message)}")


def described(message: dict[str, Any]) -> str:
    """A message as the timeline shows it: its text, or its file (type, name, size, state)."""
    media = message.get("media")
    if not media:
        return str(message["body"] or message["type"])
    kind = "voice note" if media.get("voice") else message["type"]
    parts = [kind, media.get("filename"), media.get("caption")]
    size = f"{media['size'] / 1024:.1f} kB" if media.get("size") else None
    return " · ".join(str(p) for p in [*parts, size, media["state"]] if p)


def main(argv: list[str]) -> int:
    wait = "--no-wait" not in argv
    slow = "--slow" in argv
    timeout = float(argv[argv.index("--timeout") + 1]) if "--timeout" in argv[:-1] else DEFAULT_TIMEOUT_SECONDS
    port = int(os.environ.get("PORT", "3000"))
    base = f"http://127.0.0.1:{port}"
    stack = None
    if port == 0 or not running(base):
        from devstack.meta import MetaSimulator
        from devstack.server import LocalStack

        FUNCTION_LOG.unlink(missing_ok=True)
        secret = os.environ.get("META_APP_SECRET", "local-app-secret")
        stack = LocalStack(port=port, function_log=FUNCTION_LOG, meta=MetaSimulator(app_secret=secret))
        stack.start()
        base = stack.url
        print(f"local stack and Meta simulator started on {base}; function logs: {shown(FUNCTION_LOG)}")
    else:
        print(f"using the local stack already running on {base} (its function logs are in its own terminal)")
    try:
        client = Client(base)
        meta = Client(simulator_of(client))
        admin_key = os.environ.get("ADMIN_API_KEY", "local-admin-key")
        _, created = client.call("POST", "/admin/organizations", {"name": "Loja Demo"}, admin_key)
        key = created["apiKey"]
        # ids of this run: the token proves this WABA's ownership, which then no other connection shares (D-21)
        phone_number_id, waba_id = (
            prefix + "".join(random.choice("0123456789") for _ in range(14))  # noqa: S311 - demo ids
            for prefix in ("2", "4")
        )
        token = f"EAAG-demo-{phone_number_id}"
        business = {"wabaId": waba_id, "phoneNumberIds": [phone_number_id], "token": token, "display": BUSINESS_NUMBER}
        business["verifiedName"] = "Loja Demo Centro"
        status, _ = meta.call("POST", "/_simulator/businesses", business)
        if status != 201:
            raise SystemExit(f"the Meta simulator refused the business ({status})")
        status, body = client.call(
            "POST",
            "/connections",
            {
                "phoneNumberId": phone_number_id,
                "wabaId": waba_id,
                "displayPhoneNumber": BUSINESS_NUMBER,
                "mode": "coexistence",
                "syncHistory": True,
                "displayName": "Loja Demo Centro",
                "accessToken": token,
            },
            key,
        )
        if status != 201:
            raise SystemExit(f"the connection was refused ({status}): {body}")
        print(f"organization + connection created ({status}), the number checked with Meta; API key: {key}")
        if slow:
            print(f"watch it live: open {base}/ and enter the key (5 s between steps)")
        print("replaying the onboarding:")
        ids = {EVENT_PNID: phone_number_id, EVENT_WABA: waba_id, **hold_media(meta, phone_number_id)}
        replay(meta, ids, 5.0 if slow else 0.0)
        show(client, key, wait_for(client, key, body["connection"]["id"], timeout))
        print("\n== Dashboard ==")
        print(f'  API key (organization "Loja Demo"): {key}')
        print(f"  Open {base}/ and enter the key to watch this onboarding.")
        if stack is not None and wait:
            print("  The local stack keeps running for the dashboard; Ctrl-C to stop.", flush=True)
            until_interrupted()
    finally:
        if stack is not None:
            stack.stop()
    return 0


def simulator_of(client: Client) -> str:
    """The Meta simulator of the running stack (``GET /_devstack/stack``); the demo needs one."""
    status, described = client.call("GET", "/_devstack/stack")
    url = described.get("metaSimulator") if status == 200 and isinstance(described, dict) else None
    if not url:
        raise SystemExit(
            f"the local stack on {client.base} runs without the Meta simulator: stop it and run `make demo` alone, "
            "or start it with `make run META=simulator`"
        )
    return str(url)


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def until_interrupted() -> None:
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
