"""Leads and tickets: a connection's leads by origin, a history lead's ticket with its whole conversation, phones."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from devstack.server import LocalStack
from tests.browser.support import (
    Tenant,
    deliver,
    eventually,
    for_number,
    organization,
    overflowing,
    screenshot,
    sign_in,
)
from tests.builders import payloads as b

pytestmark = pytest.mark.browser

ANA, BRUNO, CARLA, EDU, FABIO = (f"551196666400{n}" for n in range(1, 6))
CONVERSATION = "Conversa, da mais antiga para a mais recente"


@dataclass
class Shop:
    tenant: Tenant
    connection_id: str
    history_ticket: str


@pytest.fixture(scope="module")
def shop(stack: LocalStack) -> Shop:
    """A coexistence onboarding: App contacts, 180 days of history, then live traffic and an App echo."""
    tenant = organization(stack, "Loja Jardins")
    pnid, waba = "509900000000041", "609900000000041"
    connection_id = tenant.connect(pnid, waba, displayName="Loja Jardins", displayPhoneNumber=b.BIZ)["id"]
    tenant.connect("509900000000042", "609900000000042", mode="cloud_api", syncHistory=False, displayName="Loja Online")
    now, day = int(time.time()), 86400

    def send(document: dict[str, Any]) -> None:
        deliver(stack, for_number(document, pnid, waba))

    def leads() -> list[dict[str, Any]]:
        return list(tenant.api("GET", f"/leads?connectionId={connection_id}")[1]["leads"])

    def tickets() -> list[dict[str, Any]]:
        return list(tenant.api("GET", f"/tickets?connectionId={connection_id}")[1]["tickets"])

    send(b.contacts(("add", ANA, "Ana Souza"), ("add", BRUNO, "Bruno Lima"), ("add", CARLA, "Carla Dias")))
    eventually(lambda: len(leads()) == 3)
    send(b.contacts(("remove", CARLA, None)))
    ana = b.thread(
        ANA,
        b.text("wamid.inbox.a1", ANA, now - 5 * day, "Oi, vocês têm o modelo azul?"),
        b.text("wamid.inbox.a2", b.BIZ, now - 5 * day + 300, "Temos sim! Sai por R$ 129,90."),
        b.placeholder("wamid.inbox.a3", ANA, now - 5 * day + 600),
        b.text("wamid.inbox.a4", ANA, now - 4 * day, "Segue o link: <b>promo</b>"),
    )
    edu = b.thread(EDU, b.text("wamid.inbox.e1", EDU, now - 20 * day, "Qual o horário de sábado?"))
    send(b.chunk(0, 1, 100, ana, edu, pnid=pnid))
    eventually(lambda: tenant.card(connection_id)["historySync"]["status"] == "completed")
    send(b.live("wamid.inbox.live1", ANA, now - 120, "Voltei! Ainda tem o azul?", name="Ana S."))
    eventually(lambda: len(tickets()) == 1)
    send(b.echo("wamid.inbox.echo1", ANA, now - 60, "Tem sim, Ana! Separo um para você?"))
    send(b.echo("wamid.inbox.echo2", ANA, now - 50, "Ops, mensagem para outro cliente"))
    send(b.live("wamid.inbox.live2", FABIO, now - 30, "Olá! Vi o anúncio de vocês.", name="Fábio"))
    eventually(lambda: len(tickets()) == 2)
    [history_ticket] = [t["id"] for t in tickets() if t["originatedFrom"] == "history_lead"]
    eventually(lambda: len(tenant.api("GET", f"/tickets/{history_ticket}")[1]["ticket"]["messages"]) == 7)
    send(b.revoke("wamid.inbox.revoke", "wamid.inbox.echo2", ANA, now - 40))
    eventually(lambda: tenant.api("GET", f"/tickets/{history_ticket}")[1]["ticket"]["messages"][-1]["deleted"])
    eventually(lambda: not next(lead for lead in leads() if lead["phoneNumber"] == f"+{CARLA}")["isActive"])
    return Shop(tenant, connection_id, history_ticket)


def test_the_leads_of_a_connection_are_filtered_by_origin(page: Page, shop: Shop) -> None:
    sign_in(page, shop.tenant, f"#/connections/{shop.connection_id}/leads")
    expect(page.get_by_role("link", name="Loja Jardins")).to_be_visible()
    tickets = page.get_by_role("list", name="Tickets, os mais recentes primeiro")
    expect(tickets.locator(".row")).to_have_count(2)
    from_history = tickets.locator('[data-origin="history_lead"]')
    expect(from_history).to_contain_text("Lead do histórico")
    expect(from_history).to_contain_text("sem janela")
    new_contact = tickets.locator('[data-origin="new_contact"]')
    expect(new_contact).to_contain_text("Fábio")
    expect(new_contact).to_contain_text("Novo contato")
    expect(new_contact).to_contain_text(re.compile(r"janela: 2[0-3] h \d+ min"))

    leads = page.get_by_role("list", name="Leads, os mais recentes primeiro")
    expect(leads.locator(".row")).to_have_count(5)
    screenshot(page, "leads.png")

    page.get_by_label("Origem", exact=True).select_option(label="Contatos do App")
    expect(leads.locator(".row")).to_have_count(3)
    expect(leads.locator('.row[data-source="state_sync"]')).to_have_count(3)
    expect(leads.locator(".row", has_text="Carla Dias")).to_contain_text("removido dos contatos")
    assert page.url.endswith(f"#/connections/{shop.connection_id}/leads?source=state_sync")

    page.get_by_label("Origem", exact=True).select_option(label="Histórico")
    expect(leads.locator(".row")).to_have_count(1)
    expect(leads.locator(".row")).to_contain_text("+55 11 96666-4004")
    expect(leads.locator(".row")).to_contain_text("com histórico")

    page.get_by_label("Origem", exact=True).select_option(label="Criado pelo App")
    expect(page.get_by_text("Nenhum lead com esta origem.")).to_be_visible()

    page.get_by_label("Situação", exact=True).select_option(label="Abertos")
    expect(tickets.locator('[data-origin="new_contact"]')).to_contain_text("Aberto")
    assert "status=open" in page.url


def test_a_history_leads_ticket_shows_history_and_live_messages_with_their_origins(page: Page, shop: Shop) -> None:
    # two messages a page instead of 200: "Carregar mais mensagens" follows nextCursor, oldest first
    page.route(
        lambda url: "/tickets/" in url and "limit=200" in url,
        lambda route: route.continue_(url=route.request.url.replace("limit=200", "limit=2")),
    )
    sign_in(page, shop.tenant, f"#/connections/{shop.connection_id}/leads")
    page.locator('[data-origin="history_lead"]').get_by_role("link").click()
    assert page.url.endswith(f"#/tickets/{shop.history_ticket}")
    messages = page.get_by_role("list", name=CONVERSATION).locator("li.msg")
    more = page.get_by_role("button", name="Carregar mais mensagens")
    for shown in (2, 4, 6):
        expect(messages).to_have_count(shown)
        more.click()
    expect(messages).to_have_count(7)
    expect(more).to_be_hidden()
    assert [m.get_attribute("data-source") for m in messages.all()] == ["history"] * 4 + ["live"] + ["app_echo"] * 2
    assert [m.get_attribute("data-direction") for m in messages.all()] == [
        "INBOUND",
        "OUTBOUND",
        "INBOUND",
        "INBOUND",
        "INBOUND",
        "OUTBOUND",
        "OUTBOUND",
    ]
    expect(messages.nth(0)).to_contain_text("Oi, vocês têm o modelo azul?")
    expect(messages.nth(0).locator(".origin")).to_have_text("histórico")
    expect(messages.nth(1)).to_contain_text("Temos sim! Sai por R$ 129,90.")
    expect(messages.nth(2)).to_contain_text("Mídia do histórico: o arquivo ainda não chegou")
    expect(messages.nth(3).locator(".msg__body")).to_have_text("Segue o link: <b>promo</b>")  # text, not markup
    assert messages.nth(3).locator("b").count() == 0
    expect(messages.nth(4)).to_contain_text("Voltei! Ainda tem o azul?")
    expect(messages.nth(4).locator(".origin")).to_have_text("ao vivo")
    expect(messages.nth(5)).to_contain_text("Tem sim, Ana! Separo um para você?")
    expect(messages.nth(5).locator(".origin")).to_have_text("enviada pelo App")
    expect(messages.nth(6)).to_contain_text("Mensagem apagada")
    expect(messages.nth(6)).not_to_contain_text("Ops, mensagem para outro cliente")

    facts = page.get_by_role("list", name="Situação do ticket")
    expect(facts).to_contain_text("Lead do histórico")
    expect(facts).to_contain_text("sem janela")
    expect(facts).to_contain_text("Aberto")
    expect(page.get_by_text("Lead: Contatos do App, com histórico")).to_be_visible()
    screenshot(page, "ticket.png")

    page.get_by_role("button", name="Fechar ticket").click()
    expect(page.get_by_text("Ticket fechado.")).to_be_visible()
    expect(facts).to_contain_text("Fechado")
    expect(page.get_by_role("button", name="Fechar ticket")).to_be_hidden()
    assert shop.tenant.api("GET", f"/tickets/{shop.history_ticket}")[1]["ticket"]["status"] == "closed"


def test_every_screen_fits_a_phone(page: Page, shop: Shop) -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, shop.tenant)
    cards = page.locator("article.card")
    expect(cards).to_have_count(2)
    first, second = (cards.nth(i).bounding_box() for i in range(2))
    assert first is not None and second is not None
    assert second["y"] >= first["y"] + first["height"] and second["x"] == first["x"]  # stacked
    assert overflowing(page) == []
    screenshot(page, "phone.png")

    screens = {
        f"#/connections/{shop.connection_id}": page.locator(".chip").first,
        f"#/connections/{shop.connection_id}/leads": page.locator(".row").first,
        f"#/tickets/{shop.history_ticket}": page.locator("li.msg").first,
        "#/new": page.get_by_role("button", name="Conectar número"),
    }
    for route, content in screens.items():
        page.goto(f"{shop.tenant.stack.url}/{route}")
        expect(content).to_be_visible()
        assert overflowing(page) == [], route
    page.get_by_label("Conectar número existente (Coexistência)").check()
    assert overflowing(page) == []
