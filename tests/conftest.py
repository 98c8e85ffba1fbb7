"""Fixtures shared by every tier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.runtime import LambdaContext
from tests import waiting
from whatrack import wiring

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
TEST_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "WhaTrackTest",
}


def load_event(relative: str) -> dict[str, Any]:
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def hang_guard(item: pytest.Item) -> float | None:
    """The test's pytest-timeout limit: its ``timeout`` marker, else ``--timeout``, else pyproject's."""
    marker = item.get_closest_marker("timeout")
    if marker is not None:
        return float(marker.args[0] if marker.args else marker.kwargs["timeout"])
    option = item.config.getoption("timeout", None)
    value = option if option is not None else item.config.getini("timeout")
    return float(value) if value else None


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """The test's waits share its hang guard's budget, from the moment the guard starts (setup included)."""
    waiting.begin(hang_guard(item))
    yield
    waiting.end()


@pytest.fixture(autouse=True)
def _fresh_dependencies(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts with no cached settings, services or AWS clients."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    yield
    wiring.reset()


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext(function_name="test-function", memory_limit_in_mb=512, timeout_seconds=30)
