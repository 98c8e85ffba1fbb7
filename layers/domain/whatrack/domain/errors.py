"""Typed domain errors. Split by how they are handled, not by where they come from.

HTTP mapping lives in :mod:`whatrack.entrypoints.http`; SQS consumers let :class:`TransientError` (and any
unexpected exception) fail the record so it is retried and, in the end, dead-lettered.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInputError(DomainError):
    """The caller sent something malformed (HTTP 400)."""

    code = "invalid_input"


class UnauthorizedError(DomainError):
    """Missing or unknown credentials (HTTP 401)."""

    code = "unauthorized"


class NotFoundError(DomainError):
    """The resource does not exist, or belongs to another organization (HTTP 404)."""

    code = "not_found"


class ConflictError(DomainError):
    """The write collides with existing state, e.g. a number already connected (HTTP 409)."""

    code = "conflict"


class RuleViolationError(DomainError):
    """Valid shape, refused by a business rule (HTTP 422)."""

    code = "rule_violation"


class PayloadTooLargeError(DomainError):
    """The request body is above the accepted size (HTTP 413)."""

    code = "payload_too_large"


class TransientError(DomainError):
    """An upstream dependency (storage, queue, secrets) failed; safe to retry (HTTP 503)."""

    code = "unavailable"


class ConfigurationError(DomainError):
    """The deployment is misconfigured (missing variable, unset secret); fatal until fixed."""

    code = "misconfigured"


class ForbiddenError(DomainError):
    """The verification handshake was refused (HTTP 403)."""

    code = "forbidden"
