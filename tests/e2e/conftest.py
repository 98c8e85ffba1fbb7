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


@pytest.fixture(autouse=True)
def _fresh_dependencies() -> Iterator[None]:
    """Override the root fixture: the stack's handlers keep their warm dependencies, like Lambda."""
    yield
