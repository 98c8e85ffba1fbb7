"""An HTTP front that behaves like API Gateway HTTP API (payload format 2.0) for our routes."""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.media_front import BLOCK as MEDIA_BLOCK
from devstack.media_front import PREFIX as MEDIA_PREFIX
from devstack.media_front import LocalMediaServer
from devstack.runtime import LocalFunction
from devstack.template import resources_of_type
from whatrack.domain.numbers import is_ascii_number

log = logging.getLogger("devstack.http")
MEDIA_REFUSALS = {403: "Forbidden", 404: "Not Found", 416: "Requested Range Not Satisfiable"}

MAX_REQUEST_BYTES = 11 * 1024 * 1024  # API Gateway's own cap is 10 MB; the handler answers 413 first
MAX_DISCARD_BYTES = 64 * 1024 * 1024  # a refused body is read and dropped up to this much...
DISCARD_TIMEOUT_SECONDS = 5.0  # ...for at most this long between reads
STACK_PATH = "/_devstack/stack"
"""Local only (never in AWS): the emulation's endpoint and resource names, for ``scripts/stack.py``."""
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
)


DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"


@dataclass(frozen=True)
class StaticSite:
    """The dashboard's static files at ``/`` (in AWS: S3 behind CloudFront), and its ``/config.json``."""

    root: Path = DASHBOARD
    config: dict[str, str] = field(default_factory=dict)

    def file(self, path: str) -> Path | None:
        """The file served for ``path``: ``/`` and ``/index.html`` and anything under ``/assets/``."""
        relative = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
        if relative != "index.html" and not relative.startswith("assets/"):
            return None
        candidate = (self.root / relative).resolve()
        if self.root.resolve() not in candidate.parents or not candidate.is_file():
            return None
        return candidate


def dashboard_config(environ: dict[str, str] | None = None) -> dict[str, str]:
    """What the dashboard needs to know at run time (CONTRACT §2: ``META_APP_ID``, ``META_ES_CONFIG_ID``)."""
    env = os.environ if environ is None else environ
    return {
        "metaAppId": env.get("META_APP_ID", "local-app-id"),
        "esConfigId": env.get("META_ES_CONFIG_ID", ""),
        "graphApiVersion": env.get("GRAPH_API_VERSION", "v24.0"),
        "apiBaseUrl": "",
    }


# The dashboard's file types, fixed rather than guessed from the platform's mime table: a module
# served with another type does not load. scripts/publish_dashboard.py uploads with the same.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)

STATIC_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' https://connect.facebook.net; "
        "connect-src 'self' https://*.facebook.com; frame-src https://*.facebook.com; "
        "img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ..., or ANY
    path: str  # /webhook, /{proxy+}
    function: LocalFunction

    @property
    def greedy(self) -> bool:
        return self.path.endswith("+}")

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        want = [p for p in self.path.split("/") if p]
        have = [p for p in path.split("/") if p]
        params: dict[str, str] = {}
        for index, part in enumerate(want):
            if part.startswith("{") and part.endswith("+}"):
                if index >= len(have):
                    return None
                params[part[1:-2]] = "/".join(have[index:])
                return params
            if index >= len(have):
                return None
            if part.startswith("{"):
                params[part[1:-1]] = have[index]
            elif part != have[index]:
                return None
        return params if len(want) == len(have) else None


def load_routes(template: dict[str, Any], functions: dict[str, LocalFunction]) -> list[Route]:
    routes = []
    for logical, res in resources_of_type(template, "AWS::Serverless::Function").items():
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes.append(Route(str(props["Method"]).upper(), props["Path"], functions[logical]))
    # most specific first: static before parameterized before greedy, explicit method before ANY
    return sorted(routes, key=lambda r: (r.greedy, "{" in r.path, r.method == "ANY", -len(r.path)))


def is_text(content_type: str) -> bool:
    ct = content_type.lower()
    return any(ct.startswith(t) for t in TEXT_TYPES) or ct.endswith("+json")


def build_event(
    method: str, target: str, headers: dict[str, str], body: bytes, route: Route, params: dict[str, str], source_ip: str
) -> dict[str, Any]:
    split = urlsplit(target)
    query: dict[str, str] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    encode = bool(body) and not is_text(headers.get("content-type", ""))
    text: str | None = None
    if body and not encode:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            encode = True
    now = datetime.now(UTC)
    route_key = f"{route.method} {route.path}"
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": headers,
        "queryStringParameters": query or None,
        "pathParameters": params or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": base64.b64encode(body).decode() if encode else text,
        "isBase64Encoded": encode,
        "stageVariables": None,
    }


class FrontHandler(BaseHTTPRequestHandler):
    """One request: health, or route to a function as an HTTP API event."""

    routes: list[Route] = []
    ready: Callable[[], bool] = staticmethod(lambda: False)
    site: StaticSite | None = None
    describe: Callable[[], dict[str, Any]] | None = None
    media: LocalMediaServer | None = None

    protocol_version = "HTTP/1.1"
    server_version = "whatrack-devstack"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except CLIENT_GONE:
            # the browser cancelled the request (the dashboard aborts reads when the page changes)
            self.close_connection = True
            log.debug("%s %s: the client went away before the answer", self.command, self.path.split("?")[0])

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _handle(self) -> None:
        started = time.perf_counter()
        status = 500
        try:
            status = self._dispatch()
        finally:
            log.info(
                "%s %s -> %s (%.1f ms)",
                self.command,
                self.path.split("?")[0],
                status,
                (time.perf_counter() - started) * 1000,
            )

    def _dispatch(self) -> int:
        path = urlsplit(self.path).path
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not is_ascii_number(declared):  # negative, signed or not a number: never an unbounded read
            self.close_connection = True
            self._json(400, {"message": "Bad Request: invalid Content-Length"})
            return 400
        length = int(declared)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._json(413, {"message": "Request Entity Too Large"})
            self._discard(length)
            return 413
        body = self.rfile.read(length) if length else b""
        if path == "/health" and self.command == "GET":
            ok = self.ready()
            self._json(200 if ok else 503, {"status": "ok" if ok else "starting"})
            return 200 if ok else 503
        if path == STACK_PATH and self.command == "GET" and self.describe is not None:
            # local only: where the emulated AWS is and what the stack's resources are called, for the
            # operator scripts (make reconcile / replay / redrive) run against this stack
            self._json(200, self.describe())
            return 200
        if self.media is not None and path.startswith(MEDIA_PREFIX) and self.command in ("GET", "HEAD"):
            return self._media(path, urlsplit(self.path).query)
        if self.site is not None and self.command in ("GET", "HEAD"):
            served = self._static(path)
            if served is not None:
                return served
        for route in self.routes:
            params = route.match(self.command, path)
            if params is not None:
                break
        else:
            self._json(404, {"message": "Not Found"})
            return 404
        headers: dict[str, str] = {}
        for key, value in self.headers.items():
            lower = key.lower()
            headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
        event = build_event(self.command, self.path, headers, body, route, params, self.client_address[0])
        try:
            result = route.function.invoke(event)
        except Exception:  # a crashed handler is API Gateway's 500, never a dropped connection
            log.exception("handler %s crashed", route.function.logical_id)
            self._json(500, {"message": "Internal Server Error"})
            return 500
        return self._respond(result)

    def _discard(self, length: int) -> None:
        """Read and drop a refused body (up to a bound, for a short while) before closing: a client
        that writes its whole body before reading then sees the 413, not a connection reset."""
        remaining = min(length, MAX_DISCARD_BYTES)
        self.connection.settimeout(DISCARD_TIMEOUT_SECONDS)
        try:
            while remaining > 0 and (piece := self.rfile.read(min(remaining, 1 << 16))):
                remaining -= len(piece)
        except (TimeoutError, *CLIENT_GONE):
            pass

    def _static(self, path: str) -> int | None:
        assert self.site is not None
        if path == "/config.json":
            self._send(
                200, json.dumps(self.site.config).encode(), {"Content-Type": "application/json", **STATIC_HEADERS}
            )
            return 200
        file = self.site.file(path)
        if file is None:
            return None
        self._send(200, file.read_bytes(), {"Content-Type": content_type(file.name), **STATIC_HEADERS})
        return 200

    def _media(self, path: str, query: str) -> int:
        """A kept media file, streamed in blocks (a 100 MB document never sits whole in memory)."""
        assert self.media is not None
        status, headers, length, body = self.media.answer(path, query, self.headers.get("Range"))
        if body is None:
            self._json(status, {"message": MEDIA_REFUSALS.get(status, "Not Found")})
            return status
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(length))
        try:
            self.end_headers()
            if self.command != "HEAD":
                while block := body.read(MEDIA_BLOCK):
                    self.wfile.write(block)
        except CLIENT_GONE:
            self.close_connection = True
        finally:
            body.close()
        return status

    def _respond(self, result: Any) -> int:
        if not isinstance(result, dict) or "statusCode" not in result:
            payload = json.dumps(result).encode()
            self._send(200, payload, {"Content-Type": "application/json"})
            return 200
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[str(key)] = ", ".join(str(v) for v in values)
        status = int(result["statusCode"])
        self._send(status, body, headers)
        return status

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, ...) goes to the routes too: the API answers 405, not 501."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up is not an error of the stack: no traceback in the terminal."""
        if isinstance(sys.exc_info()[1], CLIENT_GONE):
            return
        super().handle_error(request, client_address)


def make_server(
    host: str,
    port: int,
    routes: list[Route],
    ready: Callable[[], bool],
    site: StaticSite | None = None,
    describe: Callable[[], dict[str, Any]] | None = None,
    media: LocalMediaServer | None = None,
) -> ThreadingHTTPServer:
    handler = type(
        "BoundFrontHandler",
        (FrontHandler,),
        {
            "routes": routes,
            "ready": staticmethod(ready),
            "site": site,
            "describe": staticmethod(describe) if describe is not None else None,
            "media": media,
        },
    )
    return FrontServer((host, port), handler)
