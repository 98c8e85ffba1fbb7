"""A small client of Meta's Graph API: timeouts, backoff on 429/5xx, Meta's error surfaced.

Every failure is an :class:`UpstreamError`: ``definite`` when Meta answered with an error that
retrying will not change, ``answer_lost`` when a POST that may have been applied got no answer (a
timeout after sending, or a gateway 5xx without Graph's error body): it is never retried, since
Meta takes each sync request once. Each call gives up before its deadline (the caller's request
must still be answered within API Gateway's time).
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from whatrack.domain.errors import ConfigurationError, UpstreamError, definite_refusal
from whatrack.domain.numbers import is_ascii_number
from whatrack.domain.onboarding import NumberState, PhoneNumber, SyncType

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TEMPLATE_PAGE = 100
MAX_TEMPLATE_PAGES = 50
"""A WABA has at most a few hundred templates (Meta's cap is 6,000 with translations): 5,000 read."""
MAX_BACKOFF_SECONDS = 8.0


class HttpGraphApi:
    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        app_id: str,
        app_secret: Callable[[], str],
        timeout_seconds: float = 5.0,
        attempts: int = 3,
        backoff_seconds: float = 0.25,
        deadline_seconds: float = 8.0,
        opener: Callable[..., Any] = urllib.request.urlopen,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = f"{base_url.rstrip('/')}/{version}"
        self._app_id = app_id
        self._app_secret = app_secret
        self._timeout = timeout_seconds
        self._attempts = max(1, attempts)
        self._backoff = backoff_seconds
        self._deadline = deadline_seconds
        self._open = opener
        self._sleep = sleep
        self._clock = clock

    # ------------------------------------------------------------------ the calls we make
    def exchange_code(self, code: str) -> str:
        """Embedded Signup's ``code`` → the business token (``GET /oauth/access_token``)."""
        if not self._app_id:
            raise ConfigurationError("META_APP_ID is not set: the Embedded Signup code cannot be exchanged")
        query = {"client_id": self._app_id, "client_secret": self._app_secret(), "code": code}
        body = self._call("GET", "oauth/access_token", query=query)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamError("Graph answered the code exchange without an access_token")
        return token

    def phone_numbers(self, waba_id: str, token: str) -> list[PhoneNumber]:
        """The numbers of a WABA that ``token`` can read (``GET /{waba-id}/phone_numbers``)."""
        body = self._call("GET", f"{_segment(waba_id)}/phone_numbers", token=token)
        data = body.get("data")
        if not isinstance(data, list):
            raise UpstreamError("Graph answered phone_numbers without a data list")
        return [
            PhoneNumber(
                id=str(item["id"]),
                display_phone_number=_text(item.get("display_phone_number")),
                verified_name=_text(item.get("verified_name")),
            )
            for item in data
            if isinstance(item, dict) and item.get("id") is not None
        ]

    def request_sync(self, phone_number_id: str, token: str, sync_type: SyncType) -> str:
        """``POST /{phone-number-id}/smb_app_data``: ask Meta to send contacts or history."""
        payload = {"messaging_product": "whatsapp", "sync_type": sync_type.value}
        body = self._call("POST", f"{_segment(phone_number_id)}/smb_app_data", token=token, payload=payload)
        request_id = body.get("request_id")
        if not isinstance(request_id, str | int) or isinstance(request_id, bool) or not str(request_id):
            raise UpstreamError("Graph answered smb_app_data without a request_id", answer_lost=True)
        return str(request_id)

    def send_message(self, phone_number_id: str, token: str, payload: Mapping[str, Any]) -> str:
        """``POST /{phone-number-id}/messages``: Meta's wamid. Retried only on a 429 (nothing was sent);
        an answer that may have been lost raises with ``answer_lost`` (never sent again here)."""
        body = self._call("POST", f"{_segment(phone_number_id)}/messages", token=token, payload=payload)
        messages = body.get("messages")
        first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        wamid = first.get("id")
        if not isinstance(wamid, str) or not wamid:
            raise UpstreamError("Graph accepted the send without a message id", answer_lost=True)
        return wamid

    def number_state(self, phone_number_id: str, token: str) -> NumberState:
        """``GET /{phone-number-id}?fields=is_on_biz_app,platform_type``."""
        body = self._call(
            "GET", _segment(phone_number_id), token=token, query={"fields": "is_on_biz_app,platform_type"}
        )
        on_app = body.get("is_on_biz_app")
        platform = body.get("platform_type")
        return NumberState(
            is_on_biz_app=on_app if isinstance(on_app, bool) else None,
            platform_type=platform if isinstance(platform, str) and platform else None,
        )

    def message_templates(self, waba_id: str, token: str) -> list[dict[str, Any]]:
        """Every template of the WABA (``GET /{waba-id}/message_templates``, every page)."""
        found: list[dict[str, Any]] = []
        query = {"limit": str(TEMPLATE_PAGE), "fields": "name,language,status,category,components"}
        for _ in range(MAX_TEMPLATE_PAGES):
            body = self._call("GET", f"{_segment(waba_id)}/message_templates", token=token, query=query)
            data = body.get("data")
            if not isinstance(data, list):
                raise UpstreamError("Graph answered message_templates without a data list")
            found += [item for item in data if isinstance(item, dict)]
            paging = body.get("paging")
            paging = paging if isinstance(paging, dict) else {}
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            if not paging.get("next") or not isinstance(after, str) or not after:
                return found
            query = {**query, "after": after}
        raise UpstreamError(f"Graph listed more than {MAX_TEMPLATE_PAGES} pages of templates")

    def media_info(self, media_id: str, phone_number_id: str, token: str) -> dict[str, Any]:
        """``GET /{media-id}?phone_number_id=``: the file's short-lived URL and what Meta knows of it."""
        return self._call("GET", _segment(media_id), token=token, query={"phone_number_id": phone_number_id})

    # ------------------------------------------------------------------ transport
    def _call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        query: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = f"{self._base}/{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        deadline = self._clock() + self._deadline
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
                with self._open(request, timeout=self._timeout) as response:
                    raw = response.read()
                try:
                    return _json_object(raw)
                except UpstreamError as exc:
                    if method == "GET":
                        raise
                    # Meta took the POST (2xx) but what it said cannot be read: it may have been applied
                    raise UpstreamError(str(exc), answer_lost=True) from exc
            except urllib.error.HTTPError as exc:
                error = _graph_error(exc.code, exc.read(), path, posted=method != "GET")
                if not self._retryable(method, exc.code) or last:
                    raise error from exc
                pause = self._delay(attempt, exc.headers.get("Retry-After"))
            except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                sent = method != "GET" and _may_have_been_sent(exc)
                if sent or last:
                    raise UpstreamError(
                        f"Graph {method} {_redacted(path)} got no answer ({_reason(exc)})", answer_lost=sent
                    ) from exc
                pause = self._delay(attempt, None)
            if self._clock() + pause + self._timeout > deadline:
                raise UpstreamError(f"Graph {method} {_redacted(path)} is still failing; gave up before the deadline")
            self._sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    @staticmethod
    def _retryable(method: str, status: int) -> bool:
        """GETs retry on 429 and 5xx; a POST only on 429, the one answer that says it was not applied
        (a 5xx may have been: Meta takes each sync request once, so it is never sent blindly again)."""
        return status == 429 if method != "GET" else status in RETRY_STATUSES

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and is_ascii_number(retry_after):
            return min(MAX_BACKOFF_SECONDS, float(retry_after))
        base = self._backoff * 2 ** (attempt - 1)
        return min(MAX_BACKOFF_SECONDS, base * (0.5 + random.random()))  # noqa: S311 - jitter


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _redacted(path: str) -> str:
    return path.split("?", 1)[0]


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or type(exc).__name__)


def _may_have_been_sent(exc: BaseException) -> bool:
    """A refused connection or an unknown host never reached Meta; a timeout or reset may have."""
    reason = getattr(exc, "reason", exc)
    return not isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise UpstreamError("Graph answered with a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise UpstreamError("Graph answered with JSON that is not an object")
    return body


def _graph_error(status: int, raw: bytes, path: str, *, posted: bool) -> UpstreamError:
    """Meta's ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``, surfaced.

    A POST answered 5xx without Graph's error body came from in front of Graph (a gateway): whether
    it was applied is unknown, so its answer counts as lost.
    """
    try:
        error = json.loads(raw.decode("utf-8")).get("error")
    except (UnicodeDecodeError, ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return UpstreamError(
            f"Graph answered HTTP {status} to {_redacted(path)}",
            status=status,
            definite=definite_refusal(status, None),
            answer_lost=posted and status >= 500,
        )
    code = error.get("code")
    meta_code = code if isinstance(code, int) and not isinstance(code, bool) else None
    subcode = error.get("error_subcode")
    return UpstreamError(
        str(error.get("message") or f"HTTP {status}"),
        status=status,
        meta_code=meta_code,
        meta_subcode=subcode if isinstance(subcode, int) else None,
        fbtrace_id=error.get("fbtrace_id") if isinstance(error.get("fbtrace_id"), str) else None,
        definite=definite_refusal(status, meta_code),
    )
