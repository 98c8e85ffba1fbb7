"""What the functions write to logs: structured JSON with personal data and secrets removed.

Phone numbers (any run of 8+ digits outside the id fields), message bodies and secrets never
reach CloudWatch: sensitive keys are replaced, digit runs are masked to their last four digits.
Ids that are digits by nature (``phone_number_id``, ``waba_id``) are kept: they name Meta objects,
not people. Traces keep no responses or errors (``capture_response=False`` and the template's
``POWERTOOLS_TRACER_CAPTURE_*``), so one-time API keys and tenants' messages stay out of X-Ray.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

from whatrack.domain.privacy import mask_digits

F = TypeVar("F", bound=Callable[..., Any])
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

    The keys a handler appends (the Lambda context, the correlation id) are kept twice: for the
    thread that appended them, and process-wide, as Powertools does. A line carries its own
    thread's keys when that thread appended any, else the process-wide ones. In Lambda (one
    invocation at a time) this is Powertools' behaviour, worker threads a handler starts included;
    in the local stack, where every function shares one process and one ``whatrack`` logger, each
    invocation's thread (an HTTP request, a queue poller, the scheduler) logs under its own
    function, never under the one another thread invoked a moment before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._per_thread = threading.local()
        self._shared: dict[str, Any] = {}
        super().__init__(*args, **kwargs)
        # what every thread starts from: the record order and the constructor's keys
        self._template: dict[str, Any] = {**dict.fromkeys(self.log_record_order), **self.keys_combined}
        self._shared = dict(self._template)
        self._per_thread = threading.local()

    def set_defaults(self, **keys: Any) -> None:
        """Keys every thread's lines carry (the service name), whichever thread appends later."""
        self._template.update(keys)
        self.append_keys(**keys)

    @property
    def log_format(self) -> dict[str, Any]:
        own: dict[str, Any] | None = getattr(self._per_thread, "log_format", None)
        return self._shared if own is None else own

    @log_format.setter
    def log_format(self, value: dict[str, Any]) -> None:
        self._shared = value  # only Powertools' constructor assigns it

    def _own(self) -> dict[str, Any]:
        own: dict[str, Any] | None = getattr(self._per_thread, "log_format", None)
        if own is None:
            own = self._per_thread.log_format = dict(self._template)
        return own

    # The process-wide dict is replaced, never changed in place: a thread formatting a line with it
    # iterates a snapshot while another thread appends.
    def append_keys(self, **additional_keys: Any) -> None:
        self._own().update(additional_keys)
        self._shared = {**self._shared, **additional_keys}

    def remove_keys(self, keys: Iterable[str]) -> None:
        removed = set(keys)
        own = self._own()
        for key in removed:
            own.pop(key, None)
        self._shared = {k: v for k, v in self._shared.items() if k not in removed}

    def clear_state(self) -> None:
        self._per_thread.log_format = dict(self._template)
        self._shared = dict(self._template)

    def get_current_keys(self) -> dict[str, Any]:
        return self.log_format

    def serialize(self, log: Any) -> str:
        safe = {k: v if k in ("timestamp", "level", "location") else redact(v, k) for k, v in dict(log).items()}
        return super().serialize(safe)


def function_logger() -> Logger:
    """The Logger of a function's handler (the services' child loggers write through it)."""
    logger = Logger(logger_formatter=RedactingFormatter())
    formatter = logger.registered_formatter
    if isinstance(formatter, RedactingFormatter):
        # on every thread's lines, not only on those of the thread that imported the handler
        formatter.set_defaults(service=logger.service, sampling_rate=logger.sampling_rate)
    return logger


class FunctionTracer:
    """A handler's tracing: Powertools' Tracer when tracing is on; while it is off, the decorator hands
    the handler back as it is and the X-Ray SDK (a fifth of a cold start) is never imported."""

    def __init__(self, tracer: Any | None) -> None:
        self.tracer = tracer

    def capture_lambda_handler(self, *, capture_response: bool = False) -> Callable[[F], F]:
        if self.tracer is None:
            return lambda handler: handler
        return cast(Callable[[F], F], self.tracer.capture_lambda_handler(capture_response=capture_response))


def tracing_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """As Powertools decides it: not switched off, and running in Lambda (not SAM's local emulator)."""
    env = os.environ if environ is None else environ
    if resolve_truthy_env_var_choice(env=env.get("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    return bool(env.get("LAMBDA_TASK_ROOT")) and not env.get("AWS_SAM_LOCAL") and not env.get("AWS_CHALICE_CLI_MODE")


def function_tracer() -> FunctionTracer:
    """Tracing for a handler: on in Lambda with ``Tracing: Active``, off locally and in tests."""
    if not tracing_enabled():
        return FunctionTracer(None)
    from aws_lambda_powertools import Tracer

    return FunctionTracer(Tracer())
