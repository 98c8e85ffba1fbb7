"""What the functions write to logs: structured JSON with personal data and secrets removed.

Phone numbers (any run of 8+ digits outside the id fields), message bodies and secrets never
reach CloudWatch: sensitive keys are replaced, digit runs are masked to their last four digits.
Ids that are digits by nature (``phone_number_id``, ``waba_id``) are kept: they name Meta objects,
not people. Traces keep no responses or errors (``capture_response=False`` and the template's
``POWERTOOLS_TRACER_CAPTURE_*``), so one-time API keys and tenants' messages stay out of X-Ray.
"""

from __future__ import annotations

import threading
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
DIGIT_ID_KEYS = frozenset(
    {
        "phone_number_id",
        "waba_id",
        "entry_index",
        "change_index",
        "bytes",
        "count",
        # the invocation's own context: request ids and ARNs are not personal data, and a masked
        # request id cannot be searched for
        "function_arn",
        "function_request_id",
        "correlation_id",
        "xray_trace_id",
    }
)


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
    """Powertools' JSON formatter, with :func:`redact` applied to every record.

    The keys a handler appends (the Lambda context, the correlation id) belong to the thread that
    appended them. In Lambda one environment runs one invocation at a time, so this changes
    nothing; in the local stack, where every function shares one process and one ``whatrack``
    logger, it keeps a line written by ``webhook_ingest`` from carrying the ``function_name`` of
    a consumer running at the same moment in another thread.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._per_thread = threading.local()
        self._initial_format: dict[str, Any] = {}
        super().__init__(*args, **kwargs)
        # what every thread starts from: the record order and the constructor's keys (service, …)
        self._initial_format = {**dict.fromkeys(self.log_record_order), **self.keys_combined}
        self._per_thread = threading.local()

    def set_defaults(self, **keys: Any) -> None:
        """Keys every thread's lines carry (the service name), from now on and in this thread."""
        self._initial_format.update(keys)
        self.append_keys(**keys)

    @property
    def log_format(self) -> dict[str, Any]:
        current: dict[str, Any] | None = getattr(self._per_thread, "log_format", None)
        if current is None:
            current = self._per_thread.log_format = dict(self._initial_format)
        return current

    @log_format.setter
    def log_format(self, value: dict[str, Any]) -> None:
        # the constructor's assignment: this thread only (``__init__`` then sets the template)
        self._per_thread.log_format = value

    def clear_state(self) -> None:
        self._per_thread.log_format = dict(self._initial_format)

    def serialize(self, log: Any) -> str:
        safe = {k: v if k in ("timestamp", "level", "location") else redact(v, k) for k, v in dict(log).items()}
        return super().serialize(safe)


def function_logger() -> Logger:
    """The Logger of a function's handler (the services' child loggers write through it)."""
    logger = Logger(logger_formatter=RedactingFormatter())
    formatter = logger.registered_formatter
    if isinstance(formatter, RedactingFormatter):
        formatter.set_defaults(service=logger.service)  # on every thread's lines, not the importer's only
    return logger
