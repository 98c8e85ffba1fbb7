"""Local-stack tier: start the whole stack on a free port, drive it over HTTP, stop it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.server import LocalStack
from tests.fakes.graph import FakeGraph, running_graph


@pytest.fixture(scope="session")
def graph() -> Iterator[FakeGraph]:
    """Meta's Graph API on 127.0.0.1, the one the local stack's functions call."""
    with running_graph() as fake:
        yield fake


@pytest.fixture(scope="session")
def stack(graph: FakeGraph) -> Iterator[LocalStack]:
    saved = dict(os.environ)
    os.environ["GRAPH_API_BASE_URL"] = graph.base_url
    os.environ["HISTORY_STALL_AFTER_SECONDS"] = "3"  # the watchdog (every second here) alerts quickly
    local = LocalStack(port=0, visibility_timeout_override=1, watchdog_interval=1.0)
    local.start()
    try:
        yield local
    finally:
        local.stop()
        os.environ.clear()
        os.environ.update(saved)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``fills_stack`` (the chaos replay, the load) store thousands of items in the
    session's stack (one moto per process: a stack of their own is not possible): they run last,
    so that the tests that scan the stack stay fast."""
    items.sort(key=lambda item: item.get_closest_marker("fills_stack") is not None)


@pytest.fixture(autouse=True)
def _fresh_dependencies() -> Iterator[None]:
    """Override the root fixture: the stack's handlers keep their warm dependencies, like Lambda."""
    yield
