"""HTTP error mapping, in one place, for every API Gateway function.

Every error body is ``{"error": {"code": "<snake_case>", "message": "<human text>"}}``.
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from whatrack.domain.errors import DomainError
from whatrack.entrypoints.errors import error_body, status_for

logger = Logger(child=True)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = error_body(code, message)
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=headers,
    )


def _validation_message(errors: Any) -> str:
    parts = []
    for error in errors or []:
        location = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Map domain errors, validation errors, unknown routes and crashes to the contract's JSON."""

    @functools.cache
    def method_routes() -> dict[str, set[str]]:
        """Path template -> methods, derived once from the resolver's own routes (its OpenAPI schema)."""
        paths = app.get_openapi_schema().paths or {}
        return {
            template: {method.upper() for method in HTTP_METHODS if getattr(item, method, None) is not None}
            for template, item in paths.items()
        }

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def _domain(error: DomainError) -> Response:
        status = status_for(error)
        if status >= 500:
            logger.error("request failed", extra={"code": error.code, "error": error.message})
        return error_response(status, error.code, error.public_message)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid(error: RequestValidationError) -> Response:
        return error_response(400, "invalid_input", _validation_message(error.errors()))

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _content_type(error: RequestUnsupportedContentType) -> Response:
        return error_response(400, "invalid_input", JSON_ONLY)

    @app.not_found
    def _not_found(_: Exception) -> Response:
        path = app.current_event.path
        method = app.current_event.http_method.upper()
        allowed = sorted(_allowed_methods(method_routes(), path))
        if allowed and method not in allowed:
            return error_response(
                405, "method_not_allowed", f"{method} is not allowed on {path}", headers={"Allow": ", ".join(allowed)}
            )
        return error_response(404, "not_found", f"no route for {method} {path}")

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _crash(error: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; safe to retry")


def _allowed_methods(method_routes: dict[str, set[str]], path: str) -> set[str]:
    """Methods of the most specific route templates matching ``path`` (``/a/{id}`` style): a literal
    segment beats a parameter, so ``/connections/embedded-signup`` is not also ``/connections/{id}``."""
    parts = [p for p in path.split("/") if p]
    best, allowed = -1, set()
    for template, methods in method_routes.items():
        tparts = [p for p in template.split("/") if p]
        if len(tparts) != len(parts) or not all(
            t.startswith("{") or t == p for t, p in zip(tparts, parts, strict=True)
        ):
            continue
        literals = sum(1 for t in tparts if not t.startswith("{"))
        if literals > best:
            best, allowed = literals, set(methods)
        elif literals == best:
            allowed |= methods
    return allowed


BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_ONLY = "the request body must be JSON (Content-Type: application/json)"


def _utf8_body(event: dict[str, Any]) -> bool:
    if not event.get("isBase64Encoded"):
        return True
    try:
        base64.b64decode(str(event.get("body") or ""), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return True


def reject_non_json_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """The status API takes JSON bodies only; any other declared content type is answered 400 here,
    before the resolver would try to parse it as a form."""
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if method not in BODY_METHODS or ((not content_type or is_json) and _utf8_body(event)):
        return None
    return {
        "statusCode": 400,
        "headers": {"Content-Type": "application/json"},
        "body": error_body("invalid_input", JSON_ONLY),
        "isBase64Encoded": False,
    }
