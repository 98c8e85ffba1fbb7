"""Browser tier: the dashboard in Debian's chromium (Playwright), against the local stack and its Meta simulator."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devstack.meta import MetaSimulator, StatusPlan
from devstack.server import LocalStack
from tests.browser.support import watch

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

# the dashboard refreshes every 2 s (syncing) or 5 s (waiting for consent): room for several rounds on
# a loaded machine (a hang guard, like pytest-timeout's: a passing expect returns as soon as it holds)
expect.set_options(timeout=30_000)


# Package scope: one stack for the whole tier, stopped before another tier starts its own
# (the local stack sets process-wide environment and the domain's composition root).
@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    """The local stack with its Meta simulator (Graph answered locally, its webhooks posted back)."""
    saved = dict(os.environ)
    os.environ["HISTORY_STALL_AFTER_SECONDS"] = "3"  # alerts show on the cards within seconds
    statuses = StatusPlan(sent=0.2, delivered=0.6, read=1.2)  # a send's ticks arrive while the page is open
    local = LocalStack(
        port=0, visibility_timeout_override=1, watchdog_interval=1.0, meta=MetaSimulator(statuses=statuses)
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()  # also empties the emulated AWS: a later stack in this process starts afresh
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="package")
def graph(stack: LocalStack) -> MetaSimulator:
    """The stack's Meta simulator."""
    assert stack.meta is not None
    return stack.meta


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
