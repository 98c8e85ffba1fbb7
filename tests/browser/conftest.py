"""Browser tier: the dashboard in Debian's chromium (Playwright), against the local stack and a fake Graph API."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devstack.server import LocalStack
from tests.browser.support import watch
from tests.fakes.graph import FakeGraph, running_graph

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # Debian's: Playwright's own download cannot work here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}

# the dashboard refreshes every 2 s (syncing) or 5 s (waiting for consent): leave room for a few rounds
expect.set_options(timeout=15_000)


# Package scope: one stack for the whole tier, stopped before another tier starts its own
# (the local stack sets process-wide environment and the domain's composition root).
@pytest.fixture(scope="package")
def graph() -> Iterator[FakeGraph]:
    """Meta's Graph API on 127.0.0.1, the one the local stack's functions call."""
    with running_graph() as fake:
        yield fake


@pytest.fixture(scope="package")
def stack(graph: FakeGraph) -> Iterator[LocalStack]:
    saved = dict(os.environ)
    os.environ["GRAPH_API_BASE_URL"] = graph.base_url
    os.environ["HISTORY_STALL_AFTER_SECONDS"] = "3"  # alerts show on the cards within seconds
    local = LocalStack(port=0, visibility_timeout_override=1, watchdog_interval=1.0)
    local.start()
    try:
        yield local
    finally:
        local.stop()  # also empties the emulated AWS: a later stack in this process starts afresh
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def _fresh_dependencies() -> Iterator[None]:
    """Override the root fixture: the stack's handlers keep their warm dependencies, like Lambda."""
    yield


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, stack: LocalStack) -> Iterator[Page]:
    """A fresh browser profile per test; a script error, a CSP violation or a missing file fails the test."""
    context = browser.new_context(viewport=DESKTOP, locale="pt-BR", timezone_id="America/Sao_Paulo")
    page = context.new_page()
    problems = watch(page, stack.url)
    yield page
    context.close()
    assert problems == []
