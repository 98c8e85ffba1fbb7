"""Issue 23: every inbox screen keeps itself current. With a ticket, a lead, the number's Leads e tickets
and its details open at once, a new customer, a reaction, an App echo and a status reach each of them
without a reload; a page nothing happens to asks one small question (a 304) and reads nothing else."""

from __future__ import annotations

import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect

from devstack.server import LocalStack
from tests.browser.support import deliver, organization, sign_in
from tests.builders import payloads as b
from tests.builders.payloads import for_number
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

GIL, HANA = "5511966665001", "5511966665002"
PNID, WABA = "509900000000101", "609900000000101"


def answers(page: Page) -> Counter[tuple[str, int]]:
    """``(path, status)`` of every API answer the page gets from now on."""
    seen: Counter[tuple[str, int]] = Counter()

    def note(response: Response) -> None:
        path = urlsplit(response.url).path
        if response.request.resource_type == "fetch":
            seen[(path, response.status)] += 1

    page.on("response", note)
    return seen


def test_every_inbox_screen_shows_news_without_a_reload(page: Page, stack: LocalStack) -> None:
    tenant = organization(stack, "Ao Vivo")
    connection_id = tenant.connect(PNID, WABA, displayName="Loja Ao Vivo", syncHistory=False)["id"]
    now = int(time.time())

    def send(document: dict[str, object]) -> None:
        deliver(stack, for_number(document, PNID, WABA))

    send(b.live("wamid.live.g1", GIL, now - 60, "Oi, tem horário amanhã?", name="Gil"))
    wait_until(lambda: tenant.api("GET", f"/tickets?connectionId={connection_id}")[1]["tickets"], "Gil's ticket")
    [ticket] = tenant.api("GET", f"/tickets?connectionId={connection_id}")[1]["tickets"]

    # four screens of the number open at once, each in its own tab
    ticket_page = page
    sign_in(ticket_page, tenant, f"#/tickets/{ticket['id']}")
    lead_page = page.context.new_page()
    sign_in(lead_page, tenant, f"#/connections/{connection_id}/leads/{ticket['leadId']}")
    list_page = page.context.new_page()
    sign_in(list_page, tenant, f"#/connections/{connection_id}/leads")
    details_page = page.context.new_page()
    sign_in(details_page, tenant, f"#/connections/{connection_id}")
    for shown in (ticket_page, lead_page):
        expect(shown.locator("li.msg", has_text="Oi, tem horário amanhã?")).to_be_visible()
    leads = list_page.get_by_role("list", name="Leads, a última mensagem primeiro")
    expect(leads.locator(".row")).to_have_count(1)
    logs = details_page.get_by_role("list", name="Registros, os mais recentes primeiro")
    expect(logs.locator("li").first).to_be_visible()
    logged = logs.locator("li").count()

    # an idle ticket asks "anything new?" and gets a 304: it reads neither the ticket nor its messages
    # (its first ask learns the number's ETag, and reads the ticket once more: nothing is missed)
    idle = answers(ticket_page)
    probe = (f"/connections/{connection_id}", 304)
    wait_until(lambda: ticket_page.wait_for_timeout(200) or idle[probe] > 0, "a first 304", interval=0)
    idle.clear()
    ticket_page.wait_for_timeout(7_000)
    assert idle[probe] >= 1, idle
    assert not [key for key in idle if key[0].startswith("/tickets/")], idle

    # the customer reacts, the business answers in the App, Meta says the answer was read, and a new
    # customer writes: each screen shows what concerns it, by itself
    send(b.live_raw("wamid.live.g2", GIL, now - 30, "reaction", {"message_id": "wamid.live.g1", "emoji": "❤️"}))
    send(b.echo("wamid.live.e1", GIL, now - 20, "Tem sim, às 10 h."))
    send(b.status("wamid.live.e1", "read", now - 10))
    send(b.live("wamid.live.h1", HANA, now - 5, "Vocês entregam?", name="Hana"))

    for shown in (ticket_page, lead_page):
        first = shown.locator("li.msg", has_text="Oi, tem horário amanhã?")
        expect(first.get_by_label("Reações")).to_contain_text("❤️")
        answer = shown.locator("li.msg", has_text="Tem sim, às 10 h.")
        expect(answer).to_have_attribute("data-status", "read")
    expect(leads.locator(".row").first).to_contain_text("Hana")  # the latest message first
    expect(leads.locator(".row")).to_have_count(2)
    tickets = list_page.get_by_role("list", name="Tickets, a última mensagem primeiro")
    expect(tickets.locator(".row")).to_have_count(2)
    expect(logs.locator("li")).to_have_count(logged + 4)
    # none of them was reloaded
    for shown in (ticket_page, lead_page, list_page, details_page):
        assert shown.evaluate("performance.getEntriesByType('navigation').length") == 1
