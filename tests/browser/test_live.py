"""Issue 23: every inbox screen keeps itself current. With a ticket, a lead, the number's Leads e tickets
and its details open at once, a new customer, a reaction, an App echo and a status reach each of them
without a reload; a page nothing happens to asks one small question (a 304) and reads nothing else."""

from __future__ import annotations

import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect

from devstack.meta import MetaSimulator
from devstack.server import LocalStack
from tests.browser.support import deliver, organization, overflowing, screenshot, sign_in, untranslated
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
    # (its first ask learns the number's ETag and reads the ticket once more, and the turn after a change
    # reads once more too: nothing is missed; from the second 304 on, nothing else is read)
    idle = answers(ticket_page)
    probe = (f"/connections/{connection_id}", 304)
    wait_until(lambda: ticket_page.wait_for_timeout(200) or idle[probe] > 1, "two 304s", interval=0)
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
    # none of them was reloaded, and none shows English or a raw code
    for shown in (ticket_page, lead_page, list_page, details_page):
        assert shown.evaluate("performance.getEntriesByType('navigation').length") == 1
        assert untranslated(shown) == [], shown.url


SCREENS_PNID, SCREENS_WABA, SCREENS_TOKEN = "509900000000111", "609900000000111", "EAAG-browser-screens"
IVO, JUNO, KAI = "5511966665011", "5511966665012", "5511966665013"


def test_every_screen_reads_in_portuguese_and_fits_at_both_widths(
    page: Page, stack: LocalStack, graph: MetaSimulator
) -> None:
    """Each screen of a number used for a while (contacts, a completed history with a gap, live tickets,
    an App answer, a reaction) at 1280 and 390 px: no English or raw code, nothing sticking out;
    a screenshot of each in docs/screenshots (``make screenshots``)."""
    tenant = organization(stack, "Vitrine")
    graph.business(SCREENS_WABA, SCREENS_PNID, token=SCREENS_TOKEN)
    connection_id = tenant.connect(
        SCREENS_PNID, SCREENS_WABA, displayName="Loja Vitrine", displayPhoneNumber=b.BIZ, accessToken=SCREENS_TOKEN
    )["id"]
    tenant.connect("509900000000112", "609900000000112", mode="cloud_api", syncHistory=False, displayName="Loja Online")
    now, day = int(time.time()), 86400

    def send(document: dict[str, object]) -> None:
        deliver(stack, for_number(document, SCREENS_PNID, SCREENS_WABA))

    send(b.contacts(("add", IVO, "Ivo Ramos"), ("add", KAI, "Kai Nunes")))
    ivo = b.thread(
        IVO,
        b.text("wamid.scr.i1", IVO, now - 9 * day, "Vocês abrem domingo?"),
        b.text("wamid.scr.i2", b.BIZ, now - 9 * day + 60, "Abrimos das 9 h às 13 h."),
    )
    juno = b.thread(JUNO, b.text("wamid.scr.j1", JUNO, now - 40 * day, "Quero um orçamento."))
    send(b.chunk(1, 1, 40, ivo, pnid=SCREENS_PNID))
    send(b.chunk(2, 2, 100, juno, pnid=SCREENS_PNID))  # chunk 1 of phase 2 never comes: a gap
    wait_until(lambda: tenant.card(connection_id)["historySync"]["status"] == "completed", "the sync completed")
    send(b.live("wamid.scr.i3", IVO, now - 300, "Oi de novo! Ainda tem horário hoje?", name="Ivo"))
    send(b.echo("wamid.scr.e1", IVO, now - 200, "Temos às 15 h, pode ser?"))
    send(b.live_raw("wamid.scr.i4", IVO, now - 100, "reaction", {"message_id": "wamid.scr.e1", "emoji": "👍"}))
    send(b.live("wamid.scr.k1", KAI, now - 60, "Bom dia! Vocês entregam no centro?", name="Kai"))
    wait_until(
        lambda: len(tenant.api("GET", f"/tickets?connectionId={connection_id}")[1]["tickets"]) == 2, "two tickets"
    )
    tickets = tenant.api("GET", f"/tickets?connectionId={connection_id}&sort=activity")[1]["tickets"]
    ivo_ticket = next(t for t in tickets if t["originatedFrom"] == "history_lead")

    screens = {
        "instances": "#/",
        "details": f"#/connections/{connection_id}",
        "leads": f"#/connections/{connection_id}/leads",
        "lead": f"#/connections/{connection_id}/leads/{ivo_ticket['leadId']}",
        "ticket": f"#/tickets/{ivo_ticket['id']}",
        "new-instance": "#/new",
    }
    ready = {
        "instances": lambda: expect(page.get_by_text("1 bloco do histórico não chegou")).to_be_visible(),
        "details": lambda: expect(page.get_by_role("region", name="Registros")).to_be_visible(),
        "leads": lambda: expect(page.locator(".row", has_text="Kai")).to_have_count(2),
        "lead": lambda: expect(page.locator("li.msg", has_text="Temos às 15 h")).to_be_visible(),
        "ticket": lambda: expect(page.locator("li.msg", has_text="Temos às 15 h")).to_be_visible(),
        "new-instance": lambda: expect(page.get_by_role("heading", name="Nova Instância", level=1)).to_be_visible(),
    }
    sign_in(page, tenant)
    for width, suffix in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        for name, route in screens.items():
            page.goto(f"{stack.url}/{route}")
            ready[name]()
            expect(page.locator("[aria-busy]")).to_have_count(0)
            assert untranslated(page) == [], (name, width)
            assert overflowing(page) == [], (name, width)
            screenshot(page, f"screen-{name}-{suffix}.png")
