"""The contract's errors over HTTP (CONTRACT §3), with no web framework: which status a domain error
is, and the one error body. The status API's resolver and the webhook endpoint both use it."""

from __future__ import annotations

import json

from whatrack.domain.errors import (
    ConfigurationError,
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    RuleViolationError,
    TransientError,
    UnauthorizedError,
    UpstreamError,
)

HTTP_STATUS: dict[type[DomainError], int] = {
    InvalidInputError: 400,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    PayloadTooLargeError: 413,
    RuleViolationError: 422,
    ConfigurationError: 500,
    TransientError: 503,
    UpstreamError: 502,
}


def error_body(code: str, message: str) -> str:
    """The contract's error body (``api.models.ErrorBody`` documents it in the OpenAPI document; the
    functions write it without loading the API's models)."""
    return json.dumps({"error": {"code": code, "message": message}})


def status_for(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500
