"""Local-stack tier: start the whole stack on a free port, drive it over HTTP, stop it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.meta import MetaSimulator, StatusPlan
from devstack.server import LocalStack

# a send's statuses come within a second here (Meta's take seconds to minutes)
FAST_STATUSES = StatusPlan(sent=0.05, delivered=0.2, read=0.5)


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The local stack with its Meta simulator, as ``make demo`` runs it."""
    saved = dict(os.environ)
    os.environ["HISTORY_STALL_AFTER_SECONDS"] = "3"  # the watchdog (every second here) alerts quickly
    local = LocalStack(
        port=0, visibility_timeout_override=1, watchdog_interval=1.0, meta=MetaSimulator(statuses=FAST_STATUSES)
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def graph(stack: LocalStack) -> MetaSimulator:
    """The stack's Meta simulator: what its functions' Graph calls reach, what posts Meta's webhooks."""
    assert stack.meta is not None
    return stack.meta


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``fills_stack`` (the chaos replay, the load) store thousands of items in the
    session's stack (one moto per process: a stack of their own is not possible): they run last,
    so that the tests that scan the stack stay fast."""
    items.sort(key=lambda item: item.get_closest_marker("fills_stack") is not None)


@pytest.fixture(autouse=True)
def _fresh_dependencies() -> Iterator[None]:
    """Override the root fixture: the stack's handlers keep their warm dependencies, like Lambda."""
    yield
