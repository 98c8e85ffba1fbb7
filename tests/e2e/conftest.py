"""Local-stack tier: start the whole stack on a free port, drive it over HTTP, stop it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.server import LocalStack


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    saved = dict(os.environ)
    local = LocalStack(port=0, visibility_timeout_override=1)
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
