"""What the functions write to logs: structured JSON with personal data and secrets removed.

Phone numbers (any run of 8+ digits outside the id fields), message bodies and secrets never
reach CloudWatch: sensitive keys are replaced, digit runs are masked to their last four digits.
Ids that are digits by nature (``phone_number_id``, ``waba_id``) are kept: they name Meta objects,
not people. Traces keep no responses or errors (``capture_response=False`` and the template's
``POWERTOOLS_TRACER_CAPTURE_*``), so one-time API keys and tenants' messages stay out of X-Ray.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

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
    }
)
DIGIT_ID_KEYS = frozenset({"phone_number_id", "waba_id", "entry_index", "change_index", "bytes", "count"})
DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z_])\+?\d[\d\s().-]{6,}\d(?![0-9A-Za-z_])")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_digits(text: str) -> str:
    """``+55 11 96666-0001`` → ``***0001``: enough to tell numbers apart, not to call anyone."""

    def mask(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = re.sub(r"\D", "", found)
        return found if len(digits) < 8 or DATE.match(found) else f"***{digits[-4:]}"

    return DIGIT_RUN.sub(mask, text)


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
