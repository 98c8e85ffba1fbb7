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

    @property
    def public_message(self) -> str:
        """The text an API caller sees."""
        return self.message


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


TRANSIENT_META_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057})
"""Meta's error codes that say "later" whatever the HTTP status (throttling, an unknown or temporary
error, maintenance): retried with backoff, never a definite refusal. Meta says to decide on the
code, not the status: app and account rate limits usually come as HTTP 400."""


def definite_refusal(status: int, meta_code: int | None) -> bool:
    """An answer retrying will not change: a 4xx other than 429, unless its code says "later"."""
    return 400 <= status < 500 and status != 429 and meta_code not in TRANSIENT_META_CODES


class UpstreamError(DomainError):
    """Meta's Graph API failed or refused (HTTP 502 unless the use case maps a refusal to 422).

    ``definite`` is True when Meta answered with an error that retrying will not change
    (:func:`definite_refusal`); ``answer_lost`` when the request may have reached Meta but no answer came
    back (a timeout after sending): then nobody knows whether it was applied.
    """

    code = "graph_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        meta_code: int | None = None,
        meta_subcode: int | None = None,
        fbtrace_id: str | None = None,
        definite: bool = False,
        answer_lost: bool = False,
    ) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.meta_code = meta_code
        self.meta_subcode = meta_subcode
        self.fbtrace_id = fbtrace_id
        self.definite = definite
        self.answer_lost = answer_lost

    @property
    def meta_error(self) -> str:
        """Meta's error as a short text: ``(#code) message``."""
        return f"(#{self.meta_code}) {self.message}" if self.meta_code is not None else self.message

    @property
    def public_message(self) -> str:
        return f"Meta's Graph API: {self.meta_error}"
