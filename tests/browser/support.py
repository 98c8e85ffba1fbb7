"""What the browser tests do outside the browser: an organization's API calls, Meta's signed webhooks."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, Response, expect

from devstack.server import LocalStack
from tests.builders.events import meta_bytes
from whatrack.webhooks.signature import sign

ADMIN_KEY = "local-admin-key"
APP_SECRET = "local-app-secret"
# `make screenshots` refreshes the committed ones in docs/screenshots; a plain run (CI) writes
# them to a scratch directory, so the tests still render every screen without touching the tree
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "whatrack-screenshots")


def is_static(url: str, origin: str) -> bool:
    """The dashboard's own files: the page, its assets and config.json (not the API's answers)."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return False
    return parts.path in ("/", "/index.html", "/config.json") or parts.path.startswith("/assets/")


def watch(page: Page, origin: str) -> list[str]:
    """Collects what must fail a test: script errors, CSP violations, a dashboard file that did not load."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # the API's refusals (401, 409, 422…) are part of the flows, and the browser logs each one as
        # "Failed to load resource"; the dashboard's own files are checked by their responses instead
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400 and is_static(response.url, origin):
            problems.append(f"{response.status} {response.url}")

    def on_request_failed(request: Request) -> None:
        # no answer at all (a request cut short by leaving the page is not a missing file)
        if is_static(request.url, origin) and request.failure != "net::ERR_ABORTED":
            problems.append(f"{request.failure} {request.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    return problems


def call(stack: LocalStack, method: str, path: str, payload: Any = None, key: str | None = None) -> tuple[int, Any]:
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(stack.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def deliver(stack: LocalStack, document: dict[str, Any]) -> None:
    """Post a webhook body exactly as Meta does: compact JSON, signed with the app secret."""
    raw = meta_bytes(document)
    request = urllib.request.Request(
        stack.url + "/webhook",
        data=raw,
        method="POST",
        headers={"content-type": "application/json", "x-hub-signature-256": sign(raw, APP_SECRET)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


@dataclass
class Tenant:
    """An organization and its API key, as the dashboard's user holds it."""

    stack: LocalStack
    key: str

    def api(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        return call(self.stack, method, path, payload, self.key)

    def connect(self, pnid: str, waba: str, **fields: Any) -> dict[str, Any]:
        body = {"phoneNumberId": pnid, "wabaId": waba, "mode": "coexistence", "syncHistory": True, **fields}
        status, created = self.api("POST", "/connections", body)
        assert status == 201, created
        return dict(created["connection"])

    def card(self, connection_id: str) -> dict[str, Any]:
        status, body = self.api("GET", f"/connections/{connection_id}")
        assert status == 200, body
        return dict(body["connection"])


def organization(stack: LocalStack, name: str) -> Tenant:
    status, created = call(stack, "POST", "/admin/organizations", {"name": name}, ADMIN_KEY)
    assert status == 201, created
    return Tenant(stack, created["apiKey"])


def sign_in(page: Page, tenant: Tenant, route: str = "#/") -> None:
    page.goto(f"{tenant.stack.url}/{route}")
    page.get_by_label("Chave de API da organização").fill(tenant.key)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_label("Chave de API da organização")).to_have_count(0)


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True, animations="disabled")


OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > width + 0.5);
  const names = wide.map((e) => e.tagName.toLowerCase() + [...e.classList].map((c) => "." + c).join(""));
  return document.documentElement.scrollWidth > window.innerWidth ? ["<html> scrolls", ...names] : names;
}"""


def overflowing(page: Page) -> list[str]:
    """What sticks out to the right of the viewport (empty: no horizontal scrolling)."""
    return list(page.evaluate(OVERFLOWING))


# Words of English that no Portuguese sentence of ours contains, and the shapes of raw codes
# (ACCOUNT_OFFBOARDED, no_access_token). Only what is rendered counts: a closed "Detalhes técnicos"
# keeps Meta's and our server's own words out of innerText.
UNTRANSLATED = r"""() => {
  const english = /\b(the|was|has|been|this|that|with|from|please|failed|error|not found|unknown|request)\b/i;
  const leak = /\b(null|undefined|NaN)\b|\[object Object\]/;
  const code = /\b([A-Z]{2,}_[A-Z_]{2,}|[a-z]{2,}_[a-z_]{2,})\b/;
  return document.body.innerText
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => english.test(line) || leak.test(line) || code.test(line));
}"""


def untranslated(page: Page, allow: tuple[str, ...] = ()) -> list[str]:
    """Lines on screen with English words or raw codes (empty: Portuguese throughout); ``allow``: what
    the test's own data put there (a customer's words, a template's name)."""
    return [line for line in page.evaluate(UNTRANSLATED) if not any(a in line for a in allow)]
