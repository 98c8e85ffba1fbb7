"""Leads and tickets: a connection's leads by origin, a lead's own conversation, a history lead's ticket, phones."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from devstack.server import LocalStack
from tests.browser.support import (
    Tenant,
    deliver,
    organization,
    overflowing,
    screenshot,
    sign_in,
)
from tests.builders import payloads as b
from tests.builders.payloads import for_number
from tests.waiting import wait_until

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
    wait_until(lambda: len(leads()) == 3, "three leads")
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
    wait_until(lambda: tenant.card(connection_id)["historySync"]["status"] == "completed", "the sync completed")
    send(b.live("wamid.inbox.live1", ANA, now - 120, "Voltei! Ainda tem o azul?", name="Ana S."))
    wait_until(lambda: len(tickets()) == 1, "one ticket")
    send(b.echo("wamid.inbox.echo1", ANA, now - 60, "Tem sim, Ana! Separo um para você?"))
    send(b.echo("wamid.inbox.echo2", ANA, now - 50, "Ops, mensagem para outro cliente"))
    send(b.live("wamid.inbox.live2", FABIO, now - 30, "Olá! Vi o anúncio de vocês.", name="Fábio"))
    wait_until(lambda: len(tickets()) == 2, "two tickets")
    [history_ticket] = [t["id"] for t in tickets() if t["originatedFrom"] == "history_lead"]
    wait_until(
        lambda: len(tenant.api("GET", f"/tickets/{history_ticket}")[1]["ticket"]["messages"]) == 7,
        "seven messages on the history lead's ticket",
    )
    send(b.revoke("wamid.inbox.revoke", "wamid.inbox.echo2", ANA, now - 40))
    wait_until(
        lambda: tenant.api("GET", f"/tickets/{history_ticket}")[1]["ticket"]["messages"][-1]["deleted"],
        "the last message deleted",
    )
    wait_until(
        lambda: not next(lead for lead in leads() if lead["phoneNumber"] == f"+{CARLA}")["isActive"],
        "Carla's lead removed by the contact sync",
    )
    return Shop(tenant, connection_id, history_ticket)


def test_the_leads_of_a_connection_are_filtered_by_origin(page: Page, shop: Shop) -> None:
    # the tickets arrive before the leads: their names wait for the leads list instead of a read each
    held: list[Route] = []
    lead_reads: list[str] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(lambda url: "/leads?" in url and not held, hold)
    page.on("request", lambda r: lead_reads.append(r.url) if re.search(r"/leads/[^/?]+$", r.url) else None)
    sign_in(page, shop.tenant, f"#/connections/{shop.connection_id}/leads")
    expect(page.get_by_role("link", name="Loja Jardins")).to_be_visible()
    tickets = page.get_by_role("list", name="Tickets, a última mensagem primeiro")
    expect(tickets.locator(".row")).to_have_count(2)

    def route_held() -> bool:
        page.wait_for_timeout(100)  # lets Playwright deliver the route's event
        return bool(held)

    wait_until(route_held, "the leads request to reach its route", interval=0)  # it left first
    assert len(held) == 1
    held[0].continue_()
    from_history = tickets.locator('[data-origin="history_lead"]')
    expect(from_history).to_contain_text("Lead do histórico")
    expect(from_history).to_contain_text("sem prazo de atendimento")
    new_contact = tickets.locator('[data-origin="new_contact"]')
    expect(new_contact).to_contain_text("Fábio")
    expect(new_contact).to_contain_text("Novo contato")
    expect(new_contact).to_contain_text(re.compile(r"prazo de atendimento: 2[0-3] h \d+ min"))
    explained = new_contact.locator('[data-window="open"]')
    expect(explained).to_have_attribute("title", re.compile("24 h depois da última mensagem ao vivo"))
    expect(from_history.locator('[data-window="none"]')).to_have_attribute("title", re.compile("lead do histórico"))
    expect(from_history.get_by_role("link")).not_to_contain_text("…")

    leads = page.get_by_role("list", name="Leads, a última mensagem primeiro")
    expect(leads.locator(".row")).to_have_count(5)
    assert lead_reads == []
    # latest activity first (Ana, a contact since the start, wrote after Edu was imported), then the
    # contacts who never wrote
    titles = leads.locator(".row__title")
    expect(titles.nth(0)).to_contain_text("Fábio")
    expect(titles.nth(1)).to_contain_text("Ana")
    expect(titles.nth(2)).to_contain_text("+55 11 96666-4004")
    expect(leads.locator(".row__time").nth(3)).to_have_text("Sem mensagens")
    # Ana's ticket and her lead agree on her latest message: the App's answer counts for both
    ana_lead = leads.locator(".row", has_text="Ana").locator(".row__time")
    ana_ticket = tickets.locator('[data-origin="history_lead"]').locator(".row__time")
    expect(ana_ticket).to_have_text(ana_lead.inner_text())
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

    page.get_by_label("Origem", exact=True).select_option(label="Criado manualmente")
    expect(page.get_by_text("Nenhum lead com esta origem.")).to_be_visible()

    page.get_by_label("Situação", exact=True).select_option(label="Abertos")
    expect(tickets.locator('[data-origin="new_contact"]')).to_contain_text("Aberto")
    assert "status=open" in page.url


def test_a_history_lead_without_a_ticket_shows_its_imported_conversation(page: Page, shop: Shop) -> None:
    # three messages a page instead of 200: the conversation opens at its end, "Carregar mensagens
    # anteriores" follows olderCursor upwards
    page.route(
        lambda url: "/conversations/" in url and "limit=200" in url,
        lambda route: route.continue_(url=route.request.url.replace("limit=200", "limit=3")),
    )
    sign_in(page, shop.tenant, f"#/connections/{shop.connection_id}/leads")
    leads = page.get_by_role("list", name="Leads, a última mensagem primeiro")
    edu = leads.locator(".row", has_text="+55 11 96666-4004")
    expect(edu).to_contain_text("Histórico")
    edu.get_by_role("link", name="+55 11 96666-4004 — ver conversa").click()
    expect(page.get_by_role("heading", name="+55 11 96666-4004", level=1)).to_be_visible()
    expect(page.get_by_text("Sem nome no WhatsApp")).to_be_visible()
    facts = page.get_by_role("list", name="Situação do lead")
    expect(facts.locator("li")).to_have_text(["Histórico", "com histórico"])
    expect(facts).not_to_contain_text("null")
    messages = page.get_by_role("list", name=CONVERSATION).locator("li.msg")
    expect(messages).to_have_count(1)
    expect(messages.first).to_contain_text("Qual o horário de sábado?")
    expect(messages.first.locator(".origin")).to_have_text("histórico")
    expect(page.get_by_text("1 mensagem ·")).to_be_visible()
    expect(page.get_by_text("Nenhum ticket aberto.")).to_be_visible()  # history alone opens no ticket
    expect(page.get_by_role("link", name="Ver ticket")).to_be_hidden()
    expect(page.get_by_role("button", name="Iniciar conversa")).to_be_visible()
    screenshot(page, "lead.png")

    # a contact of the App that never wrote: no conversation here
    page.get_by_role("link", name="Leads e tickets").click()
    leads.locator(".row", has_text="Bruno Lima").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Bruno Lima", level=1)).to_be_visible()
    expect(page.get_by_text("Nenhuma conversa com este contato nesta instância.")).to_be_visible()

    # a lead with an open ticket: history and live together, a page at a time, and the ticket one click away
    page.get_by_role("link", name="Leads e tickets").click()
    leads.locator(".row", has_text="+55 11 96666-4001").get_by_role("link").click()
    more = page.get_by_role("button", name="Carregar mensagens anteriores")
    for shown in (3, 6):
        expect(messages).to_have_count(shown)
        more.click()
    expect(messages).to_have_count(7)
    expect(more).to_be_hidden()
    assert [m.get_attribute("data-source") for m in messages.all()] == ["history"] * 4 + ["live"] + ["app_echo"] * 2
    expect(messages.nth(2)).to_contain_text("Mídia do histórico: o arquivo ainda não chegou")
    expect(messages.nth(2)).not_to_contain_text("Mídia: Mídia")  # the kind said once
    expect(messages.nth(4).locator(".origin")).to_have_text("ao vivo")
    expect(messages.nth(5).locator(".origin")).to_have_text("enviada pelo App")
    page.get_by_role("link", name="Ver ticket").click()
    assert page.url.endswith(f"#/tickets/{shop.history_ticket}")
    expect(page.get_by_role("list", name="Situação do ticket")).to_contain_text("Lead do histórico")


def test_a_history_leads_ticket_shows_history_and_live_messages_with_their_origins(page: Page, shop: Shop) -> None:
    # two messages a page (and a refresh) instead of 100 (30): the ticket opens at its newest
    # messages, "Carregar mensagens anteriores" follows olderCursor upwards
    page.route(
        lambda url: "/tickets/" in url and "latest=1" in url,
        lambda route: route.continue_(url=re.sub(r"limit=\d+", "limit=2", route.request.url)),
    )
    sign_in(page, shop.tenant, f"#/connections/{shop.connection_id}/leads")
    page.locator('[data-origin="history_lead"]').get_by_role("link").click()
    assert page.url.endswith(f"#/tickets/{shop.history_ticket}")
    messages = page.get_by_role("list", name=CONVERSATION).locator("li.msg")
    more = page.get_by_role("button", name="Carregar mensagens anteriores")
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
    expect(facts).to_contain_text("sem prazo de atendimento")
    expect(facts).to_contain_text("Aberto")
    expect(page.get_by_text("Lead: Contatos do App, com histórico")).to_be_visible()
    screenshot(page, "ticket.png")

    composer = page.get_by_role("form", name="Responder")
    expect(composer).to_be_visible()
    # "Fechar ticket" asks first; "Cancelar" leaves it open
    page.get_by_role("button", name="Fechar ticket").click()
    confirm = page.get_by_role("group", name="Confirmar o fechamento")
    expect(confirm).to_contain_text("Você pode reabri-lo depois.")
    confirm.get_by_role("button", name="Cancelar").click()
    expect(confirm).to_be_hidden()
    assert shop.tenant.api("GET", f"/tickets/{shop.history_ticket}")[1]["ticket"]["status"] == "open"
    page.get_by_role("button", name="Fechar ticket").click()
    confirm.get_by_role("button", name="Sim, fechar o ticket").click()
    expect(page.get_by_text("Ticket fechado.")).to_be_visible()
    expect(facts).to_contain_text("Fechado em")
    expect(page.get_by_role("button", name="Fechar ticket")).to_be_hidden()
    expect(composer).to_be_hidden()  # a closed ticket is read-only
    expect(page.get_by_role("button", name=re.compile("^Responder"))).to_have_count(0)
    assert shop.tenant.api("GET", f"/tickets/{shop.history_ticket}")[1]["ticket"]["status"] == "closed"
    # and it can be reopened, answerable again
    page.get_by_role("button", name="Reabrir ticket").click()
    expect(page.get_by_text("Ticket reaberto.")).to_be_visible()
    expect(composer).to_be_visible()
    expect(facts).not_to_contain_text("Fechado em")
    page.get_by_role("button", name="Fechar ticket").click()
    confirm.get_by_role("button", name="Sim, fechar o ticket").click()
    expect(page.get_by_role("button", name="Reabrir ticket")).to_be_visible()
    assert shop.tenant.api("GET", f"/tickets/{shop.history_ticket}")[1]["ticket"]["status"] == "closed"


LONG_SHOP = "LojaDeRoupasInfantisEAcessoriosDaVilaMadalenaSaoPauloSP001"  # 58 characters, no space
LONG_CONTACT = "MariaAparecidaDosSantosOliveiraPereiraDaSilvaCostaRibeiro"
LONG_NEW_CONTACT = "JoaoPedroAlbuquerqueDeOliveiraMagalhaesFilhoNetoSobrinho"
GABI, HELIO = "5511966665001", "5511966665002"


def test_every_screen_fits_a_phone(page: Page, stack: LocalStack) -> None:
    """Long names without spaces (the API takes up to 200 characters) wrap instead of widening the page."""
    tenant = organization(stack, "Telefone")
    pnid, waba = "509900000000051", "609900000000051"
    connection_id = tenant.connect(pnid, waba, displayName=LONG_SHOP, displayPhoneNumber=b.BIZ)["id"]
    tenant.connect("509900000000052", "609900000000052", mode="cloud_api", syncHistory=False, displayName="Loja Online")
    now, day = int(time.time()), 86400

    def send(document: dict[str, Any]) -> None:
        deliver(stack, for_number(document, pnid, waba))

    def tickets() -> list[dict[str, Any]]:
        return list(tenant.api("GET", f"/tickets?connectionId={connection_id}")[1]["tickets"])

    send(b.contacts(("add", GABI, LONG_CONTACT)))
    link = "https://exemplo.com.br/" + "promocao-de-inverno-" * 6
    gabi = b.thread(
        GABI,
        b.text("wamid.phone.1", GABI, now - 3 * day, f"Oi! Vi isto: {link}"),
        b.placeholder("wamid.phone.2", GABI, now - 3 * day + 60),
    )
    send(b.chunk(0, 1, 100, gabi, pnid=pnid))
    wait_until(lambda: tenant.card(connection_id)["historySync"]["status"] == "completed", "the sync completed")
    send(b.live("wamid.phone.live1", GABI, now - 60, "Voltei!", name=LONG_CONTACT))
    send(b.live("wamid.phone.live2", HELIO, now - 30, "Olá!", name=LONG_NEW_CONTACT))
    wait_until(lambda: len(tickets()) == 2, "two tickets")
    [history_ticket] = [t for t in tickets() if t["originatedFrom"] == "history_lead"]

    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, tenant)
    cards = page.locator("article.card")
    expect(cards).to_have_count(2)
    expect(page.get_by_role("heading", name=LONG_SHOP)).to_be_visible()
    first, second = (cards.nth(i).bounding_box() for i in range(2))
    assert first is not None and second is not None
    assert second["y"] >= first["y"] + first["height"] and second["x"] == first["x"]  # stacked
    assert overflowing(page) == []
    screenshot(page, "phone.png")

    leads_page = f"#/connections/{connection_id}/leads"
    tickets_list = page.get_by_role("list", name="Tickets, a última mensagem primeiro")
    leads_list = page.get_by_role("list", name="Leads, a última mensagem primeiro")
    # each screen once all it reads has arrived (logs, leads, ticket names, the conversation)
    screens = {
        f"#/connections/{connection_id}": [page.locator(".chip").first, page.locator(".log").first],
        leads_page: [
            tickets_list.locator(".row", has_text=LONG_CONTACT),
            tickets_list.locator(".row", has_text=LONG_NEW_CONTACT),
            leads_list.locator(".row", has_text=LONG_CONTACT),
            leads_list.locator(".row", has_text=LONG_NEW_CONTACT),
        ],
        f"{leads_page}/{history_ticket['leadId']}": [
            page.locator("li.msg").nth(1),
            page.get_by_role("link", name="Ver ticket"),
        ],
        f"#/tickets/{history_ticket['id']}": [page.locator("li.msg").nth(2)],
        "#/new": [page.get_by_role("button", name="Conectar número")],
    }
    for route, contents in screens.items():
        page.goto(f"{stack.url}/{route}")
        for content in contents:
            expect(content).to_be_visible()
        expect(page.locator("[aria-busy]")).to_have_count(0)
        assert overflowing(page) == [], route
    page.get_by_label("Conectar número existente (Coexistência)").check()
    assert overflowing(page) == []
