"""Load handlers from the template (CodeUri + Handler) and invoke them like Lambda would."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from devstack.template import function_timeout, resources_of_type

Handler = Callable[[dict[str, Any], Any], Any]

invoking: ContextVar[str | None] = ContextVar("invoking", default=None)
"""The function being invoked in this thread, if any (what :mod:`devstack.faults` may fail)."""

ApiCall = Callable[[Any, str, dict[str, Any]], Any]
"""botocore's ``BaseClient._make_api_call(client, operation, params)``."""


@contextmanager
def around_api_calls(around: Callable[[ApiCall, Any, str, dict[str, Any]], Any]) -> Iterator[None]:
    """Route every AWS call made in this process (boto3 and PynamoDB alike) through
    ``around(call, client, operation, params)``, which calls ``call(client, operation, params)`` to
    make it (or raises instead): fault injection, counting, recording. Nests; undone on exit."""
    from botocore.client import BaseClient

    original: ApiCall = getattr(BaseClient, "_make_api_call")  # noqa: B009 - a private method, patched on purpose

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        return around(original, client, operation, params)

    setattr(BaseClient, "_make_api_call", call)  # noqa: B010
    try:
        yield
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    """One function = one execution environment: invocations are serialized, like Lambda's."""

    logical_id: str
    module: str
    handler_name: str
    timeout: int
    memory: int
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _handler: Handler | None = None

    def handler(self) -> Handler:
        if self._handler is None:
            self._handler = getattr(importlib.import_module(self.module), self.handler_name)
        return self._handler

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            context = LambdaContext(self.logical_id, self.memory, self.timeout)
            token = invoking.set(self.logical_id)
            try:
                return self.handler()(event, context)
            finally:
                invoking.reset(token)


def load_functions(template: dict[str, Any]) -> dict[str, LocalFunction]:
    globals_fn = template.get("Globals", {}).get("Function", {})
    functions: dict[str, LocalFunction] = {}
    for logical, res in resources_of_type(template, "AWS::Serverless::Function").items():
        props = res["Properties"]
        code_dir = str(props["CodeUri"]).strip("/").replace("/", ".")
        module_name, handler_name = str(props["Handler"]).rsplit(".", 1)
        functions[logical] = LocalFunction(
            logical_id=logical,
            module=f"{code_dir}.{module_name}",
            handler_name=handler_name,
            timeout=function_timeout(template, logical),
            memory=int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
        )
    return functions
