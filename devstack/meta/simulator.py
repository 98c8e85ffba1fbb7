"""The Meta simulator: a Graph API double on 127.0.0.1 that posts signed webhooks back, as Meta does.

One object holds Meta's side of the world (:mod:`accounts <devstack.meta.accounts>`, :mod:`media
<devstack.meta.media>`, :mod:`messaging <devstack.meta.messaging>`) and serves it over HTTP, or
in-process through :meth:`MetaSimulator.open` (an ``urlopen`` for the unit tier: same answers, no
socket). The local stack starts one with ``make demo`` and ``make run META=simulator``; every test
tier uses it. A test scripts faults per route with :meth:`MetaSimulator.fail_next`
(:mod:`devstack.meta.answers` has Meta's shapes for each); another process (``make demo`` against a
running stack, a developer with curl) arranges it through its small control API under
``/_simulator/`` (:mod:`devstack.meta.control`).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.meta import control
from devstack.meta.accounts import Accounts
from devstack.meta.answers import ROUTES, Scripted, meta_error
from devstack.meta.media import DOWNLOAD_PATH, MediaFile, MediaStore
from devstack.meta.messaging import Messaging, StatusPlan, Template
from devstack.meta.webhooks import Sink, WebhookSender, http_sink
from whatrack.domain.numbers import is_ascii_number

APP_ID = "local-app-id"
APP_SECRET = "local-app-secret"  # noqa: S105 - the local stack's documented default (CONTRACT §2)
VERSION = "v24.0"
VERSION_PREFIX = re.compile(r"^/v\d+\.\d+/")
log = logging.getLogger("devstack.meta")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


class MetaSimulator:
    def __init__(
        self,
        *,
        app_id: str = APP_ID,
        app_secret: str = APP_SECRET,
        version: str = VERSION,
        statuses: StatusPlan | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.version = version
        self.accounts = Accounts(app_id, app_secret)
        self.webhooks = WebhookSender(app_secret)
        self.media = MediaStore(self.accounts, lambda: self.base_url, clock)
        self.messaging = Messaging(self.accounts, self.webhooks, clock, statuses or StatusPlan())
        self.calls: list[Call] = []
        self.script: dict[str, list[Scripted]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ arranging (tests, the demo)
    @property
    def app_id(self) -> str:
        return self.accounts.app_id

    @property
    def app_secret(self) -> str:
        return self.accounts.app_secret

    @property
    def tokens(self) -> dict[str, set[str]]:
        return self.accounts.tokens

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        return self.accounts.states

    @property
    def sync_requests(self) -> list[tuple[str, str]]:
        return self.accounts.sync_requests

    def business(self, waba_id: str, *phone_number_ids: str, **options: Any) -> str:
        """A WABA with its numbers, readable with a token (returned); ``code=`` exchanges for it."""
        return self.accounts.business(waba_id, *phone_number_ids, **options)

    def add_media(self, content: bytes | None = None, **options: Any) -> MediaFile:
        """A file Meta holds, to be announced in a webhook by its id (``mime_type=``, ``size=``...)."""
        return self.media.add(content, **options)

    def expire_media(self, media_id: str) -> None:
        self.media.expire(media_id)

    def template(self, waba_id: str, name: str, **fields: Any) -> Template:
        """A message template of the WABA (approved unless ``status=`` says otherwise)."""
        return self.messaging.template(waba_id, name, **fields)

    def customer_wrote(self, phone_number_id: str, wa_id: str, at: float | None = None) -> None:
        self.messaging.customer_wrote(phone_number_id, wa_id, at)

    def fail_sends_to(self, wa_id: str, code: int) -> None:
        """Every send to ``wa_id`` is accepted, then fails with ``code`` (a ``failed`` status)."""
        self.messaging.failing[wa_id] = code

    def fail_next(self, route: str, *answers: Scripted) -> None:
        """The next calls of ``route`` get these answers, in order, before Meta's own."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}: one of {ROUTES}")
        with self._lock:
            self.script.setdefault(route, []).extend(answers)

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if self._route(c.method, c.path) == route]

    # ------------------------------------------------------------------ Meta's webhooks to the stack
    def deliver_to(self, target: str | Sink) -> None:
        """Where Meta posts webhooks: the stack's ``/webhook`` URL (or a function, in-process)."""
        self.webhooks.sink = http_sink(target) if isinstance(target, str) else target
        self.webhooks.start()

    def deliver(self, document: dict[str, Any]) -> int:
        """Post a webhook now, signed, as Meta would; a live message of a customer in it opens their
        window for sends. Answers the stack's HTTP status."""
        for pnid, wa_id, at in _inbound(document):
            self.messaging.customer_wrote(pnid, wa_id, at)
        return self.webhooks.post_now(document)

    # ------------------------------------------------------------------ serving
    @property
    def base_url(self) -> str:
        if self._server is None:
            return "http://graph.simulator.invalid"  # in-process use (open()): never dialled
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def download_host(self) -> str:
        """Where this simulator's media URLs point, written as ``MEDIA_DOWNLOAD_HOSTS`` takes a plain-http
        host (CONTRACT §2): the entry a media download from the simulator needs."""
        return self.base_url

    def start(self) -> MetaSimulator:
        if self._server is not None:
            return self
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                simulator._serve(self, "GET")

            def do_POST(self) -> None:
                simulator._serve(self, "POST")

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="meta-simulator", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.webhooks.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        declared = (request.headers.get("Content-Length") or "0").strip()
        if not is_ascii_number(declared):
            answer = meta_error("(#100) Invalid Content-Length", 100)
        else:
            raw = request.rfile.read(int(declared)) if int(declared) else b""
            answer = self._answer_safely(request, method, raw)
        if answer.delay:
            time.sleep(answer.delay)
        if answer.lost:  # the call took effect; its answer never comes
            request.close_connection = True
            return
        try:
            request.send_response(answer.status)
            request.send_header("Content-Type", answer.content_type)
            for name, value in answer.headers.items():
                request.send_header(name, value)
            if answer.chunks is not None:
                request.send_header("Content-Length", str(answer.length or 0))
                request.end_headers()
                for block in answer.chunks:
                    request.wfile.write(block)
                return
            payload = answer.payload()
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            request.close_connection = True

    def _answer_safely(self, request: BaseHTTPRequestHandler, method: str, raw: bytes) -> Scripted:
        """Meta's answer, or Graph's error shape for a call the simulator could not handle: a client
        must never mistake a simulator bug for a lost answer (a dropped connection)."""
        try:
            if request.path.startswith(control.PREFIX):
                return control.handle(self, method, request.path, raw)
            return self.respond(method, request.path, request.headers.get("Authorization"), raw)
        except Exception as error:
            log.exception("the Meta simulator failed on %s %s", method, request.path.split("?")[0])
            return meta_error(f"An unexpected error has occurred in the simulator: {error}", 2, 500)

    def respond(self, method: str, target: str, authorization: str | None, raw: bytes) -> Scripted:
        """Record the call and answer it: the next scripted answer of its route, else Meta's."""
        parts = urlsplit(target)
        path = parts.path if parts.path == DOWNLOAD_PATH else VERSION_PREFIX.sub("", parts.path).lstrip("/")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        call = Call(method, path, dict(parse_qsl(parts.query)), body, authorization)
        route = self._route(method, path)
        with self._lock:
            self.calls.append(call)
            scripted = self.script.get(route or "", [])
            answer = scripted.pop(0) if scripted else None
        if answer is not None and not answer.processed:
            return answer
        real = self._answer(route, call)
        return answer.spoiling(real) if answer is not None else real

    def open(self, request: urllib.request.Request, timeout: float) -> Any:
        """An ``urlopen`` for ``HttpGraphApi(opener=...)``: the same answers, no socket (the unit tier)."""
        parts = urlsplit(request.full_url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        raw = request.data if isinstance(request.data, bytes) else b""
        answer = self.respond(request.get_method(), target, request.get_header("Authorization"), raw)
        if answer.lost:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        if answer.delay >= timeout:
            raise TimeoutError("timed out")  # after the request was sent: its answer is lost
        headers = http.client.HTTPMessage()
        headers["Content-Type"] = answer.content_type
        for name, value in answer.headers.items():
            headers[name] = value
        if answer.status >= 400:
            raise urllib.error.HTTPError(
                request.full_url, answer.status, "error", headers, io.BytesIO(answer.payload())
            )
        return _Response(answer, headers)

    # ------------------------------------------------------------------ Meta's behaviour
    def _route(self, method: str, path: str) -> str | None:
        if path == "oauth/access_token":
            return "oauth"
        if path == DOWNLOAD_PATH:
            return "media_download"
        if path.endswith("/phone_numbers"):
            return "phone_numbers"
        if path.endswith("/smb_app_data") and method == "POST":
            return "smb_app_data"
        if path.endswith("/messages") and method == "POST":
            return "messages"
        if path.endswith("/message_templates") and method == "GET":
            return "message_templates"
        if "/" not in path and method == "GET":  # an object: a number Meta knows, else a media id
            return "number_state" if self.accounts.number(path) is not None else "media"
        return None

    def _answer(self, route: str | None, call: Call) -> Scripted:
        head = call.path.split("/")[0]
        if route == "oauth":
            return self.accounts.exchange(call.query)
        if route == "phone_numbers":
            return self.accounts.phone_numbers(call.authorization, head)
        if route == "smb_app_data":
            return self.accounts.request_sync(call.authorization, head, call.body)
        if route == "number_state":
            return self.accounts.state(call.authorization, head)
        if route == "media":
            return self.media.url_of(call.authorization, head)
        if route == "media_download":
            return self.media.download(call.authorization, call.query)
        if route == "messages":
            return self.messaging.send(call.authorization, head, call.body)
        if route == "message_templates":
            return self.messaging.list_templates(
                call.authorization, head, call.query, f"{self.base_url}/{self.version}"
            )
        return meta_error("Unknown path components", 2500)


class _Response:
    """What ``urlopen`` returns, for :meth:`MetaSimulator.open` (streamed bodies read in blocks)."""

    def __init__(self, answer: Scripted, headers: http.client.HTTPMessage) -> None:
        self.status = answer.status
        self.headers = headers
        self._blocks = answer.chunks
        self._buffer = b"" if answer.chunks is not None else answer.payload()

    def read(self, amount: int | None = None) -> bytes:
        while self._blocks is not None and (amount is None or len(self._buffer) < amount):
            block = next(self._blocks, None)
            if block is None:
                self._blocks = None
                break
            self._buffer += block
        if amount is None:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:amount], self._buffer[amount:]
        return out

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def close(self) -> None:
        self._blocks, self._buffer = None, b""

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _inbound(document: Any) -> Iterator[tuple[str, str, float]]:
    """(phone number id, customer, unix time) of every live customer message in a webhook body
    (whatever else the body holds: a test may hand it any shape)."""
    for entry in _objects(document.get("entry") if isinstance(document, dict) else None):
        for change in _objects(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            pnid = str(metadata.get("phone_number_id") or "") if isinstance(metadata, dict) else ""
            for message in _objects(value.get("messages")):
                sender, stamp = message.get("from"), str(message.get("timestamp") or "")
                if pnid and sender and is_ascii_number(stamp):
                    yield pnid, str(sender), float(stamp)


@contextmanager
def running_simulator(**options: Any) -> Iterator[MetaSimulator]:
    simulator = MetaSimulator(**options).start()
    try:
        yield simulator
    finally:
        simulator.stop()
