"""Meta's webhook endpoint over API Gateway's HTTP API, with no web framework: two routes (``GET`` the
handshake, ``POST`` a delivery) need no resolver, and the ingest function's cold start is spent on
Meta's bodies, not on loading one (CONTRACT §4; errors as everywhere, :mod:`whatrack.entrypoints.errors`)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from whatrack.domain.errors import DomainError, InvalidInputError
from whatrack.domain.log import LogStatus
from whatrack.entrypoints.errors import error_body, status_for
from whatrack.services.ingest import IngestService

PATH = "/webhook"
ALLOWED = "GET, POST"


def answer(status: int, body: str, content_type: str = "application/json", **headers: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type, **headers}, "body": body}


def failure(status: int, code: str, message: str, **headers: str) -> dict[str, Any]:
    return answer(status, error_body(code, message), **headers)


def raw_body(event: dict[str, Any]) -> bytes:
    """The exact bytes Meta sent: base64-decoded when API Gateway marked the body so."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInputError("body is marked base64 but is not valid base64") from exc
    return str(body).encode("utf-8")


def serve(
    event: dict[str, Any],
    service: Callable[[], IngestService],
    *,
    logger: Logger,
    count: Callable[[str, int], None],
) -> dict[str, Any]:
    """Answer one request: the handshake, a delivery, or the contract's error."""
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    path = str(event.get("rawPath") or "")
    if path != PATH:
        return failure(404, "not_found", f"no route for {method} {path}")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    try:
        if method == "GET":
            params = event.get("queryStringParameters") or {}
            challenge = service().verify_subscription(
                params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge")
            )
            return answer(200, challenge, "text/plain")
        if method == "POST":
            report = service().receive(
                raw_body(event), headers.get("x-hub-signature-256"), correlation_id=logger.get_correlation_id()
            )
            for outcome in LogStatus:
                if counted := report.count(outcome):
                    count(f"Changes{outcome.value.capitalize()}", counted)
            return answer(200, json.dumps({"status": "ok"}))
        return failure(405, "method_not_allowed", f"{method} is not allowed on {path}", Allow=ALLOWED)
    except DomainError as error:
        status = status_for(error)
        if status >= 500:
            logger.error("request failed", extra={"code": error.code, "error": error.message})
        return failure(status, error.code, error.public_message)
    except Exception:
        logger.exception("unhandled error")
        return failure(500, "internal_error", "internal error; safe to retry")
