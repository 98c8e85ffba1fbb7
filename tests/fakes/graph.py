"""Meta's Graph API on 127.0.0.1, as much of it as we call, with Meta's error shapes.

Register businesses (``business``), then point ``GRAPH_API_BASE_URL`` at ``graph.base_url``.
Scripted answers (``fail_next``) come first, so a test can make Meta slow (a timeout), rate-limit
(429), fail (5xx) or refuse (4xx with an error body) any route a given number of times.
"""

from __future__ import annotations

import email.message
import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

APP_ID = "local-app-id"
APP_SECRET = "local-app-secret"
ROUTES = ("oauth", "phone_numbers", "smb_app_data", "number_state")


def meta_error(message: str, code: int, status: int = 400, *, kind: str = "OAuthException") -> Scripted:
    """An answer shaped like Graph's errors."""
    body = {"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}}
    return Scripted(status, body)


@dataclass
class Scripted:
    status: int
    body: Any = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        return json.dumps(self.body).encode() if self.body is not None else b""


class _Response:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def read(self) -> bytes:
        return self._payload

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


@dataclass
class FakeGraph:
    version: str = "v24.0"
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    codes: dict[str, str] = field(default_factory=dict)  # Embedded Signup code -> token
    tokens: dict[str, set[str]] = field(default_factory=dict)  # token -> WABA ids it can read
    numbers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # WABA -> its numbers
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # phone number id -> fields
    sync_requests: list[tuple[str, str]] = field(default_factory=list)  # (phone number id, sync type)
    calls: list[Call] = field(default_factory=list)
    script: dict[str, list[Scripted]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ arranging
    def business(
        self,
        waba_id: str,
        *phone_number_ids: str,
        token: str = "EAAG-business-token",
        code: str | None = None,
        display: str = "5491155550100",
    ) -> str:
        """A WABA with its numbers, readable with ``token`` (and ``code`` exchanges for it)."""
        self.tokens.setdefault(token, set()).add(waba_id)
        for index, pnid in enumerate(phone_number_ids):
            number = {"id": pnid, "display_phone_number": display if index == 0 else f"{display}{index}"}
            self.numbers.setdefault(waba_id, []).append({**number, "verified_name": "Loja Centro"})
            self.states[pnid] = {"is_on_biz_app": True, "platform_type": "CLOUD_API"}
        if code is not None:
            self.codes[code] = token
        return token

    def fail_next(self, route: str, *answers: Scripted) -> None:
        assert route in ROUTES, route
        self.script.setdefault(route, []).extend(answers)

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if _route(c.method, c.path) == route]

    # ------------------------------------------------------------------ serving
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeGraph:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                graph._serve(self, "GET")

            def do_POST(self) -> None:
                graph._serve(self, "POST")

            def log_message(self, *_args: Any) -> None:  # quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-graph", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        answer = self.respond(method, request.path, request.headers.get("Authorization"), raw)
        if answer.delay:
            time.sleep(answer.delay)
        payload = answer.payload()
        try:
            request.send_response(answer.status)
            request.send_header("Content-Type", "application/json")
            for name, value in answer.headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            return

    def respond(self, method: str, target: str, authorization: str | None, raw: bytes) -> Scripted:
        """Record the call and answer it: the next scripted answer of its route, else Meta's."""
        parts = urlsplit(target)
        path = parts.path.removeprefix(f"/{self.version}/")
        call = Call(method, path, dict(parse_qsl(parts.query)), json.loads(raw) if raw else None, authorization)
        with self._lock:
            self.calls.append(call)
            scripted = self.script.get(_route(method, path) or "", [])
            answer = scripted.pop(0) if scripted else None
        return answer or self._answer(_route(method, path), call)

    def open(self, request: urllib.request.Request, timeout: float) -> _Response:
        """An ``urlopen`` for ``HttpGraphApi(opener=...)``: the same answers, no socket (the unit tier)."""
        parts = urlsplit(request.full_url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        raw = request.data if isinstance(request.data, bytes) else b""
        answer = self.respond(request.get_method(), target, request.get_header("Authorization"), raw)
        if answer.delay >= timeout:
            raise TimeoutError("timed out")  # after the request was sent: its answer is lost
        if answer.status >= 400:
            headers = email.message.Message()
            for name, value in answer.headers.items():
                headers[name] = value
            raise urllib.error.HTTPError(
                request.full_url, answer.status, "error", headers, io.BytesIO(answer.payload())
            )
        return _Response(answer.payload())

    # ------------------------------------------------------------------ Meta's behaviour
    def _answer(self, route: str | None, call: Call) -> Scripted:
        if route == "oauth":
            return self._oauth(call)
        token = (call.authorization or "").removeprefix("Bearer ").strip()
        if token not in self.tokens:
            return meta_error("Error validating access token: The session has been invalidated.", 190, 401)
        if route == "phone_numbers":
            waba_id = call.path.split("/")[0]
            if waba_id not in self.tokens[token]:
                return meta_error(f"Unsupported get request. Object with ID '{waba_id}' does not exist", 100)
            return Scripted(200, {"data": self.numbers.get(waba_id, [])})
        pnid = call.path.split("/")[0]
        if not self._can_read(token, pnid):
            return meta_error(f"Unsupported request. Object with ID '{pnid}' does not exist", 100)
        if route == "smb_app_data":
            return self._smb_app_data(pnid, call)
        if route == "number_state":
            return Scripted(200, {"id": pnid, **self.states.get(pnid, {})})
        return meta_error("Unknown path components", 2500)

    def _oauth(self, call: Call) -> Scripted:
        if call.query.get("client_id") != self.app_id or call.query.get("client_secret") != self.app_secret:
            return meta_error("Error validating client secret.", 1, 400)
        token = self.codes.pop(call.query.get("code", ""), None)
        if token is None:
            return meta_error("This authorization code has been used.", 100, 400)
        return Scripted(200, {"access_token": token, "token_type": "bearer"})

    def _smb_app_data(self, pnid: str, call: Call) -> Scripted:
        sync_type = (call.body or {}).get("sync_type")
        if sync_type not in ("smb_app_state_sync", "history"):
            return meta_error("(#100) Param sync_type must be one of {smb_app_state_sync, history}", 100)
        with self._lock:
            if (pnid, sync_type) in self.sync_requests:
                return meta_error("Sync has already been requested for this phone number", 131000)
            self.sync_requests.append((pnid, sync_type))
            request_id = f"req-{len(self.sync_requests)}"
        return Scripted(200, {"messaging_product": "whatsapp", "request_id": request_id})

    def _can_read(self, token: str, pnid: str) -> bool:
        return any(n["id"] == pnid for waba in self.tokens[token] for n in self.numbers.get(waba, []))


def _route(method: str, path: str) -> str | None:
    if path == "oauth/access_token":
        return "oauth"
    if path.endswith("/phone_numbers"):
        return "phone_numbers"
    if path.endswith("/smb_app_data") and method == "POST":
        return "smb_app_data"
    if "/" not in path and method == "GET":
        return "number_state"
    return None


@contextmanager
def running_graph() -> Iterator[FakeGraph]:
    graph = FakeGraph().start()
    try:
        yield graph
    finally:
        graph.stop()
