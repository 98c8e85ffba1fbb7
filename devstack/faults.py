"""Seeded fault injection for the local stack: AWS calls made by the functions fail at a set rate.

The local stack runs every function in this process, so one patch of botocore's
``BaseClient._make_api_call`` (:func:`devstack.runtime.around_api_calls`) reaches every AWS call a
handler makes (boto3 and PynamoDB alike) and none that the emulation makes for itself (queue
polling, the test's own reads): only calls made while a function is being invoked
(:data:`devstack.runtime.invoking`) are eligible.

A fault is what AWS answers once its SDK retries are spent: DynamoDB throttling, a transaction
cancelled by a conflict, a 5xx of DynamoDB, S3 or SQS; or the handler dying in the middle of its
work (an exception that is none of these). Ingest then answers 5xx (Meta retries), a consumer's
record is retried by SQS and, if it keeps failing, dead-lettered.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from devstack.runtime import ApiCall, around_api_calls, invoking

FAULTS: dict[str, tuple[tuple[str, int, str], ...]] = {
    # service -> (error code, HTTP status, message) choices
    "dynamodb": (
        ("ProvisionedThroughputExceededException", 400, "injected: throughput exceeded"),
        ("ThrottlingException", 400, "injected: rate exceeded"),
        ("InternalServerError", 500, "injected: internal server error"),
    ),
    "s3": (("InternalError", 500, "injected: internal error"), ("SlowDown", 503, "injected: slow down")),
    "sqs": (("ServiceUnavailable", 503, "injected: service unavailable"), ("ThrottlingException", 400, "injected")),
}
CONFLICT = ("TransactionCanceledException", 400, "injected: Transaction cancelled [TransactionConflict]")


class InjectedCrash(RuntimeError):
    """A handler that dies in the middle of its work (out of memory, a timeout, a bug)."""


class FaultInjector:
    """Fail a seeded share of the functions' AWS calls; :attr:`injected` counts what was injected."""

    def __init__(
        self,
        rate: float,
        seed: int,
        *,
        crash_share: float = 0.1,
        functions: frozenset[str] | None = None,
        operations: frozenset[str] | None = None,
    ) -> None:
        """``functions`` / ``operations``: fail only the calls of these functions (logical ids) and
        these operations (``TransactWriteItems``...); all of them when ``None``."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be in [0, 1]")
        self.rate = rate
        self.crash_share = crash_share
        self.functions = functions
        self.operations = operations
        self.injected: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._random = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
        self._lock = threading.Lock()

    def _draw(self, function: str, service: str, operation: str) -> Exception | None:
        with self._lock:
            self.calls[service] += 1
            if service not in FAULTS or (self.functions is not None and function not in self.functions):
                return None
            if self.operations is not None and operation not in self.operations:
                return None
            if self._random.random() >= self.rate:
                return None
            if self._random.random() < self.crash_share:
                self.injected[f"{service}:{operation}:crash"] += 1
                return InjectedCrash(f"injected crash during {service}:{operation}")
            if operation == "TransactWriteItems" and self._random.random() < 0.5:
                code, status, message = CONFLICT
            else:
                code, status, message = self._random.choice(FAULTS[service])
            self.injected[f"{service}:{operation}:{code}"] += 1
        error: dict[str, Any] = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        if code == CONFLICT[0]:
            error["CancellationReasons"] = [{"Code": "TransactionConflict", "Message": "injected"}]
        return ClientError(error, operation)  # type: ignore[arg-type]

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    @contextmanager
    def active(self) -> Iterator[FaultInjector]:
        def faulty(call: ApiCall, client: Any, operation: str, params: dict[str, Any]) -> Any:
            function = invoking.get()
            if function is not None:
                fault = self._draw(function, client.meta.service_model.service_name, operation)
                if fault is not None:
                    raise fault
            return call(client, operation, params)

        with around_api_calls(faulty):
            yield self
