"""What the Meta simulator answers: Meta's shapes, and the faults a test scripts per call.

A scripted answer (:class:`Scripted`) is taken, in order, before Meta's own behaviour for the next
calls of one route. Most replace the call (a 429, a 5xx, a refusal: nothing happens at Meta). Two
let the call take effect and then spoil its answer, as the network does: :func:`too_slow` (the
answer comes after the client gave up) and :func:`lost_answer` (the connection drops before any
answer). A send spoiled that way was still sent: its statuses still come.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

ROUTES = (
    "oauth",  # GET  /oauth/access_token (Embedded Signup's code exchange)
    "phone_numbers",  # GET  /{waba-id}/phone_numbers
    "smb_app_data",  # POST /{phone-number-id}/smb_app_data (contacts or history sync request)
    "number_state",  # GET  /{phone-number-id}
    "media",  # GET  /{media-id}: the download URL of a media file
    "media_download",  # GET  the URL that answer gave (the file itself)
    "messages",  # POST /{phone-number-id}/messages (a send)
    "message_templates",  # GET  /{waba-id}/message_templates
)
GRAPH_ERROR_HELP = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


@dataclass
class Scripted:
    """One answer: a status, a JSON body (or raw ``content``), headers, and how it reaches the client."""

    status: int
    body: Any = None
    delay: float = 0.0
    """Seconds before the answer is written (longer than the client's timeout: a timeout)."""
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    chunks: Iterator[bytes] | None = None
    """A streamed body (a media file), ``Content-Length`` from ``length``."""
    length: int | None = None
    content_type: str = "application/json"
    lost: bool = False
    """No answer at all: the connection is closed once the call is handled."""
    processed: bool = False
    """A fault that lets Meta handle the call first (its effects happen), then spoils the answer."""

    def payload(self) -> bytes:
        if self.content is not None:
            return self.content
        if self.chunks is not None:
            return b"".join(self.chunks)
        return json.dumps(self.body).encode() if self.body is not None else b""

    def spoiling(self, real: Scripted) -> Scripted:
        """Meta's real answer, delayed or lost as this fault says."""
        return replace(real, delay=max(real.delay, self.delay), lost=self.lost or real.lost)


def meta_error(
    message: str,
    code: int,
    status: int = 400,
    *,
    kind: str = "OAuthException",
    subcode: int | None = None,
    details: str | None = None,
    headers: dict[str, str] | None = None,
) -> Scripted:
    """An answer shaped like Graph's errors (``error.code`` is what clients decide on)."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfSim123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return Scripted(status, {"error": error}, headers=dict(headers or {}))


def ok(body: Any) -> Scripted:
    return Scripted(200, body)


# ---------------------------------------------------------------------------------- faults for tests
def rate_limited(retry_after: int = 1, code: int = 130429) -> Scripted:
    """Meta's throughput limit (130429; 131056 for one recipient), with ``Retry-After``."""
    return meta_error(
        f"(#{code}) Rate limit hit",
        code,
        429,
        details="Message failed to send because there were too many messages sent from this phone number.",
        headers={"Retry-After": str(retry_after)},
    )


def server_error(status: int = 500) -> Scripted:
    """A transient failure of Meta (code 2, "Service temporarily unavailable")."""
    return meta_error("Service temporarily unavailable", 2, status)


def too_slow(seconds: float) -> Scripted:
    """The call takes effect, but its answer comes only after ``seconds`` (past a client's timeout)."""
    return Scripted(200, delay=seconds, processed=True)


def lost_answer() -> Scripted:
    """The call takes effect, and the connection drops before any answer (nothing to read)."""
    return Scripted(200, lost=True, processed=True)


def media_expired(media_id: str) -> Scripted:
    """Graph's answer for a media id it no longer (or never) had: code 100, subcode 33."""
    return meta_error(
        f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded due to missing "
        "permissions, or does not support this operation.",
        100,
        kind="GraphMethodException",
        subcode=33,
    )


def url_gone() -> Scripted:
    """A media URL that no longer serves the file (expired, or Meta's CDN lost it): plain 404."""
    return Scripted(404, content=b"Not Found", content_type="text/plain")


def invalid_token() -> Scripted:
    return meta_error("Error validating access token: The session has been invalidated.", 190, 401)
