"""Lazy, cached, resettable boto3 clients.

Clients are created on first use (after moto has started in tests, after the local stack has
set ``AWS_ENDPOINT_URL``), reused across warm invocations, and dropped by :func:`reset`.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from whatrack.domain.errors import TransientError

_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=3,
    read_timeout=10,
)


@functools.cache
def session() -> boto3.session.Session:
    """The one boto3 session of the execution environment: every client shares its loaded service data."""
    return boto3.session.Session()


@functools.cache
def client(service: str) -> Any:
    """A shared client for ``service`` (``s3``, ``sqs``, ``secretsmanager``, ``dynamodb``)."""
    return session().client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset() -> None:
    """Forget every client (tests, and the local stack when its endpoint changes)."""
    client.cache_clear()
    session.cache_clear()


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code"))
    return None


def transient(action: str, exc: BaseException) -> TransientError:
    """Translate an AWS SDK failure into the domain's retryable error."""
    code = error_code(exc) or type(exc).__name__
    return TransientError(f"{action} failed ({code})")


AWS_ERRORS: tuple[type[BaseException], ...] = (ClientError, BotoCoreError)
