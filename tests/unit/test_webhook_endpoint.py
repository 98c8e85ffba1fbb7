"""The webhook endpoint without a web framework: its routes, Meta's handshake, and every error in the
contract's shape (a bug is a 500 that Meta retries, never a 4xx)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from tests.builders.events import http_event
from whatrack.domain.errors import ForbiddenError, PayloadTooLargeError, TransientError
from whatrack.entrypoints.webhook import serve


class Ingest:
    """What the endpoint calls; each test says what it answers."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.received: list[tuple[bytes, str | None]] = []

    def verify_subscription(self, mode: str | None, token: str | None, challenge: str | None) -> str:
        if mode != "subscribe" or token != "t":
            raise ForbiddenError("verification failed")
        return str(challenge)

    def receive(self, raw: bytes, signature: str | None, *, correlation_id: str | None = None) -> Any:
        if self.error is not None:
            raise self.error
        self.received.append((raw, signature))
        return type("Report", (), {"count": staticmethod(lambda status: 1 if status.value == "routed" else 0)})()


def call(event: dict[str, Any], ingest: Ingest) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    counted: list[tuple[str, int]] = []
    answer = serve(event, lambda: ingest, logger=Logger(service="test"), count=lambda n, v: counted.append((n, v)))  # type: ignore[arg-type,return-value]
    return answer, counted


def test_the_handshake_answers_the_challenge_as_text_or_403() -> None:
    answer, _ = call(
        http_event("GET", "/webhook", query="hub.mode=subscribe&hub.verify_token=t&hub.challenge=42"), Ingest()
    )
    assert (answer["statusCode"], answer["body"], answer["headers"]["Content-Type"]) == (200, "42", "text/plain")
    answer, _ = call(
        http_event("GET", "/webhook", query="hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"), Ingest()
    )
    assert answer["statusCode"] == 403 and json.loads(answer["body"])["error"]["code"] == "forbidden"


def test_a_delivery_passes_the_exact_bytes_and_signature_and_counts_outcomes() -> None:
    ingest = Ingest()
    answer, counted = call(
        http_event("POST", "/webhook", body=b'{"a": 1}', headers={"X-Hub-Signature-256": "sha256=ab"}), ingest
    )
    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"status": "ok"})
    assert ingest.received == [(b'{"a": 1}', "sha256=ab")] and counted == [("ChangesRouted", 1)]
    answer, _ = call(http_event("POST", "/webhook", body=b"{}", base64_body=True), ingest)
    assert ingest.received[-1][0] == b"{}"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (PayloadTooLargeError("body larger than 10 MiB"), 413, "payload_too_large"),
        (TransientError("archive put failed"), 503, "unavailable"),
        (KeyError("a bug"), 500, "internal_error"),
    ],
)
def test_every_failure_is_the_contracts_error(error: Exception, status: int, code: str) -> None:
    answer, _ = call(http_event("POST", "/webhook", body=b"{}"), Ingest(error))
    assert (answer["statusCode"], json.loads(answer["body"])["error"]["code"]) == (status, code)


def test_other_methods_and_paths_are_405_and_404() -> None:
    answer, _ = call(http_event("PUT", "/webhook", body=b"{}"), Ingest())
    assert (answer["statusCode"], answer["headers"]["Allow"]) == (405, "GET, POST")
    answer, _ = call(http_event("GET", "/elsewhere"), Ingest())
    assert answer["statusCode"] == 404 and json.loads(answer["body"])["error"]["code"] == "not_found"
    event = http_event("POST", "/webhook", body=b"x")
    event["isBase64Encoded"], event["body"] = True, "not base64!"
    answer, _ = call(event, Ingest())
    assert answer["statusCode"] == 400
