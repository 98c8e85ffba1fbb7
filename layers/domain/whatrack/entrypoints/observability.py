"""What the functions write to logs: structured JSON with personal data and secrets removed.

Phone numbers (any run of 8+ digits outside the id fields), message bodies and secrets never
reach CloudWatch: sensitive keys are replaced, digit runs are masked to their last four digits.
Ids that are digits by nature (``phone_number_id``, ``waba_id``) are kept: they name Meta objects,
not people. Traces keep no responses or errors (``capture_response=False`` and the template's
``POWERTOOLS_TRACER_CAPTURE_*``), so one-time API keys and tenants' messages stay out of X-Ray.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from whatrack.domain.privacy import mask_digits

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "body",
        "text",
        "caption",
        "content",
        "phone",
        "phone_number",
        "display_phone_number",
        "wa_id",
        "from",
        "to",
        "recipient_id",
        "access_token",
        "accesstoken",
        "api_key",
        "apikey",
        "authorization",
        "token",
        "secret",
        "app_secret",
        "client_secret",
        "hub.verify_token",
        "rawquerystring",
    }
)
DIGIT_ID_KEYS = frozenset({"phone_number_id", "waba_id", "entry_index", "change_index", "bytes", "count"})


def redact(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str) and key not in DIGIT_ID_KEYS:
        return mask_digits(value)
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with :func:`redact` applied to every record."""

    def serialize(self, log: Any) -> str:
        safe = {k: v if k in ("timestamp", "level", "location") else redact(v, k) for k, v in dict(log).items()}
        return super().serialize(safe)


def function_logger() -> Logger:
    """The Logger of a function's handler (the services' child loggers write through it)."""
    return Logger(logger_formatter=RedactingFormatter())
