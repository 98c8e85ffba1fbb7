"""`make demo`, seen in the dashboard: its onboarding is dated today, so the new contact's ticket shows a
live 24 h to answer counting down, and its history lies within Meta's 180 days (issue 23's sixth finding)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from devstack.server import LocalStack
from tests.browser.support import Tenant, sign_in, untranslated
from tests.localstack import run_demo

pytestmark = pytest.mark.browser


def test_the_demo_is_dated_today_and_its_new_contact_has_a_live_window(page: Page, stack: LocalStack) -> None:
    result = run_demo(stack, "90", 150)
    assert result.returncode == 0, result.stderr
    found = re.search(r'API key \(organization "Loja Demo"\): (\S+)', result.stdout)
    assert found is not None, result.stdout
    tenant = Tenant(stack, found.group(1))
    [connection] = tenant.api("GET", "/connections")[1]["connections"]
    tickets = tenant.api("GET", f"/tickets?connectionId={connection['id']}&sort=activity")[1]["tickets"]
    new_contact = next(t for t in tickets if t["originatedFrom"] == "new_contact")
    # every phase within Meta's 180 days, the latest message minutes old
    leads = tenant.api("GET", f"/leads?connectionId={connection['id']}&sort=activity")[1]["leads"]
    latest = datetime.fromisoformat(leads[0]["lastMessageAt"].replace("Z", "+00:00"))
    assert timedelta(0) <= datetime.now(UTC) - latest < timedelta(hours=1)

    # the ticket's time left goes down on the page's own clock: 23 h and some minutes now, 22 h an hour later
    page.clock.install()
    sign_in(page, tenant, f"#/tickets/{new_contact['id']}")
    window = page.locator('li[data-window="open"]')
    expect(window).to_have_text(re.compile(r"^prazo de atendimento: 23 h \d+ min$"))
    page.clock.run_for(60 * 60 * 1000)
    expect(window).to_have_text(re.compile(r"^prazo de atendimento: 22 h \d+ min$"))
    expect(page.get_by_text("Janela de 24 h da Meta aberta")).to_be_visible()  # Meta's too: a free text may go
    assert untranslated(page, allow=("Loja Demo",)) == []
