"""Replies from the ticket (issue 22): the composer, quoted replies, ticks as WhatsApp shows them, a
failure with Meta's reason and "Enviar de novo", templates when Meta's window is closed, "Novo lead"
and "Iniciar conversa", and a ticket that keeps itself current while it is open."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from devstack.meta import MetaSimulator
from devstack.server import LocalStack
from tests.browser.support import Tenant, organization, overflowing, screenshot, sign_in
from tests.builders import payloads as b
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

PNID, WABA, TOKEN = "509900000000081", "609900000000081", "EAAG-browser-replies"
RAFA, BETO, LIA = "5511955550001", "5511955550002", "5511955550003"
CONVERSATION = "Conversa, da mais antiga para a mais recente"


@dataclass
class Desk:
    tenant: Tenant
    connection_id: str
    tickets: dict[str, str]  # customer → ticket id
    lead_of_lia: str


@pytest.fixture(scope="module")
def desk(stack: LocalStack, graph: MetaSimulator) -> Desk:
    """A number with a token and a template; Rafa and Beto wrote live, Lia only in the imported history."""
    graph.business(WABA, PNID, token=TOKEN, display=b.BIZ)
    graph.template(WABA, "retomar_contato", body="Olá {{1}}! Podemos continuar o seu atendimento por aqui?")
    graph.template(WABA, "pedido_enviado", body="Seu pedido {{1}} saiu para entrega em {{2}}.")
    tenant = organization(stack, "Loja das Respostas")
    connection_id = tenant.connect(
        PNID, WABA, mode="coexistence", syncHistory=False, accessToken=TOKEN, displayName="Loja das Respostas"
    )["id"]
    now = int(time.time())

    def send(document: dict[str, Any]) -> None:
        assert graph.deliver(b.for_number(document, PNID, WABA)) == 200

    lia = b.thread(LIA, b.text("wamid.desk.lia1", LIA, now - 3 * 86400, "Vocês entregam no sábado?"))
    send(b.chunk(0, 1, 100, lia, pnid=PNID))
    send(b.live("wamid.desk.rafa1", RAFA, now - 120, "Oi! Ainda tem o tênis 42?", name="Rafa"))
    send(b.live("wamid.desk.beto1", BETO, now - 60, "Qual o prazo de entrega?", name="Beto"))

    def tickets() -> dict[str, str]:
        _, listed = tenant.api("GET", f"/tickets?connectionId={connection_id}")
        _, leads = tenant.api("GET", f"/leads?connectionId={connection_id}")
        phones = {lead["id"]: lead["waId"] for lead in leads["leads"]}
        return {phones.get(t["leadId"], ""): t["id"] for t in listed["tickets"]}

    wait_until(lambda: {RAFA, BETO} <= set(tickets()), "Rafa's and Beto's tickets")

    def lia_lead() -> str | None:
        _, found = tenant.api("GET", f"/leads?connectionId={connection_id}&source=history_sync")
        return next((lead["id"] for lead in found["leads"] if lead["waId"] == LIA), None)

    wait_until(lambda: lia_lead() is not None, "Lia's lead from the history")
    return Desk(tenant, connection_id, tickets(), str(lia_lead()))


def agent_bubbles(page: Page) -> Locator:
    return page.get_by_role("list", name=CONVERSATION).locator('li.msg[data-source="agent"]')


def sends_of(graph: MetaSimulator, client_id: str | None) -> int:
    return sum(1 for s in graph.messaging.sent if s.body.get("biz_opaque_callback_data") == client_id)


def test_an_agent_answers_and_sees_the_ticks_and_the_customers_next_message(
    page: Page, desk: Desk, stack: LocalStack, graph: MetaSimulator
) -> None:
    sign_in(page, desk.tenant, f"#/tickets/{desk.tickets[RAFA]}")
    composer = page.get_by_role("form", name="Responder")
    expect(composer).to_contain_text(re.compile(r"Janela de 24 h da Meta aberta: 2[0-3] h \d+ min"))
    box = composer.get_by_label("Mensagem")

    # Enter sends, Shift+Enter breaks the line; the reply shows at once, then ✓, ✓✓ and read
    box.fill("Oi Rafa! Temos sim.")
    box.press("Shift+Enter")
    box.type("Quer que eu separe?")
    box.press("Enter")
    sent = agent_bubbles(page).first
    expect(sent).to_contain_text("Oi Rafa! Temos sim.\nQuer que eu separe?")
    expect(box).to_have_value("")
    expect(sent).to_have_attribute("data-status", "read")
    expect(sent.locator(".msg__ticks")).to_have_text("✓✓lida")
    expect(sent.locator(".msg__ticks--read")).to_have_count(1)
    expect(sent.locator(".origin")).to_have_text("atendente")

    # a reply to a chosen message quotes it
    customer = page.locator('li.msg[data-id="wamid.desk.rafa1"]')
    customer.get_by_role("button", name=re.compile("^Responder")).click()
    expect(composer).to_contain_text("Oi! Ainda tem o tênis 42?")
    box.fill("Separado!")
    composer.get_by_role("button", name="Enviar", exact=True).click()
    quoted = agent_bubbles(page).nth(1)
    expect(quoted.locator(".quote")).to_have_accessible_name("Em resposta a Cliente: Oi! Ainda tem o tênis 42?")
    expect(quoted).to_have_attribute("data-status", "read")
    expect(composer.locator(".composer__quote")).to_be_hidden()

    # the customer writes again while the page is open: it appears by itself
    now = int(time.time())
    assert graph.deliver(b.for_number(b.live("wamid.desk.rafa2", RAFA, now, "Perfeito, obrigado!"), PNID, WABA)) == 200
    expect(page.locator('li.msg[data-id="wamid.desk.rafa2"]')).to_contain_text("Perfeito, obrigado!")

    # each reply reached Meta once
    ids = [bubble.get_attribute("data-key") for bubble in agent_bubbles(page).all()]
    assert len(ids) == 2 and all(sends_of(graph, i) == 1 for i in ids)
    expect(page.locator("[aria-busy]")).to_have_count(0)
    screenshot(page, "ticket-reply-desktop.png")


def test_a_failed_reply_shows_metas_reason_and_is_sent_again(page: Page, desk: Desk, graph: MetaSimulator) -> None:
    graph.fail_sends_to(BETO, 131047)  # accepted, then a failed status: Meta closed the window
    sign_in(page, desk.tenant, f"#/tickets/{desk.tickets[BETO]}")
    box = page.get_by_role("form", name="Responder").get_by_label("Mensagem")
    box.fill("Chega amanhã!")
    box.press("Enter")
    failed = agent_bubbles(page).first
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed).to_contain_text("Mais de 24 h desde a última mensagem do cliente")
    expect(failed.locator(".msg__failure-text")).to_have_attribute("title", re.compile("^Meta: 131047"))

    graph.messaging.failing.pop(BETO)  # Meta would deliver now
    failed.get_by_role("button", name="Enviar de novo").click()
    again = agent_bubbles(page).nth(1)
    expect(again).to_contain_text("Chega amanhã!")
    expect(again).to_have_attribute("data-status", "read")
    expect(failed).to_have_attribute("data-status", "failed")  # the failed one stays as it was
    first_id, second_id = (bubble.get_attribute("data-key") for bubble in agent_bubbles(page).all())
    assert first_id != second_id and sends_of(graph, first_id) == 1 and sends_of(graph, second_id) == 1
    screenshot(page, "ticket-failed-reply.png")


def test_a_new_lead_and_a_history_lead_start_a_conversation_with_a_template(
    page: Page, desk: Desk, graph: MetaSimulator
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    # "Novo lead": created by hand, then shown on its page
    sign_in(page, desk.tenant, f"#/connections/{desk.connection_id}/leads")
    page.get_by_role("button", name="Novo lead").click()
    form = page.get_by_role("form", name="Novo lead")
    form.get_by_label("Número de WhatsApp").fill("12345")
    form.get_by_role("button", name="Criar lead").click()
    expect(form).to_contain_text("Este número não é válido.")
    form.get_by_label("Número de WhatsApp").fill("+55 11 95555-0009")
    form.get_by_label("Nome (opcional)").fill("Dora")
    form.get_by_role("button", name="Criar lead").click()
    expect(page.get_by_role("heading", name="Dora", level=1)).to_be_visible()
    expect(page.get_by_text("Lead criado.")).to_be_visible()
    expect(page.get_by_role("list", name="Situação do lead")).to_contain_text("Criado manualmente")
    expect(page.get_by_role("button", name="Iniciar conversa")).to_be_visible()

    # a history lead who never wrote live: "Iniciar conversa" opens a manual ticket whose first
    # message can only be a template
    page.goto(f"{desk.tenant.stack.url}/#/connections/{desk.connection_id}/leads/{desk.lead_of_lia}")
    page.get_by_role("button", name="Iniciar conversa").click()
    start = page.get_by_role("form", name="Iniciar conversa")
    expect(start.get_by_label("Enviar pelo número")).to_contain_text("Loja das Respostas")
    start.get_by_role("button", name="Abrir ticket").click()
    expect(page).to_have_url(re.compile(r"#/tickets/"))
    composer = page.get_by_role("form", name="Responder")
    expect(composer).to_contain_text("não escreveu ao vivo desde a conexão")
    expect(composer.get_by_label("Mensagem")).to_be_hidden()  # free text is not offered
    expect(composer.get_by_role("button", name="Escrever mensagem")).to_be_hidden()
    picker = composer.get_by_label("Modelo aprovado")
    expect(picker.locator("option")).to_have_count(3)
    picker.select_option(label="retomar_contato · pt_BR · utilidade")
    composer.get_by_label("Parâmetro {{1}}").fill("Lia")
    greeting = "Olá Lia! Podemos continuar o seu atendimento por aqui?"
    expect(composer.locator(".template__preview")).to_have_text(greeting)
    screenshot(page, "ticket-template-phone.png")
    composer.get_by_role("button", name="Enviar modelo").click()
    sent = agent_bubbles(page).first
    expect(sent).to_contain_text("Modelo “retomar_contato”")
    expect(sent).to_contain_text(greeting)
    expect(sent).to_have_attribute("data-status", "read")
    assert sends_of(graph, sent.get_attribute("data-key")) == 1
    expect(page.locator("[aria-busy]")).to_have_count(0)
    assert overflowing(page) == []


COUNT_REFRESHES = r"""
window.refreshes = 0;  // reads of the ticket's newest 30 messages
window.asks = 0;  // "anything new on this number?" (GET /connections/{id})
const originalFetch = window.fetch;
window.fetch = (input, init) => {
  const url = new URL(typeof input === "string" ? input : input.url, location.href);
  if (url.pathname.startsWith("/tickets/") && url.searchParams.get("limit") === "30") window.refreshes += 1;
  if (/^\/connections\/[^/]+$/.test(url.pathname)) window.asks += 1;
  return originalFetch(input, init);
};
"""
ASK = re.compile(r"/connections/[^/?]+$")
SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_an_open_ticket_refreshes_itself_pauses_when_hidden_and_backs_off_on_errors(page: Page, desk: Desk) -> None:
    # the page's timers run on Playwright's clock, moved forward at once (the page counts its own refreshes)
    page.clock.install()
    page.add_init_script(COUNT_REFRESHES)
    sign_in(page, desk.tenant, f"#/tickets/{desk.tickets[RAFA]}")
    expect(page.locator('li.msg[data-id="wamid.desk.rafa1"]')).to_be_visible()

    def refreshes() -> int:
        return int(page.evaluate("window.refreshes"))

    def asks() -> int:
        return int(page.evaluate("window.asks"))

    # 3 s after the first load it asks whether anything changed; the first answer is new (nothing was
    # known), so it reads the ticket's newest messages once
    page.clock.run_for(3_500)
    wait_until(lambda: asks() == 1 and refreshes() == 1, "an ask and a refresh 3 s after the first load")
    # a hidden tab skips its turns, and asks at once when it shows again; the turn after a change reads
    # once more whatever the answer (an index may show a write after the counter that announced it)
    page.evaluate(SET_HIDDEN, True)
    page.clock.run_for(30_000)
    assert asks() == 1
    page.evaluate(SET_HIDDEN, False)
    wait_until(lambda: asks() == 2 and refreshes() == 2, "an ask on return, and the settling read")
    # then nothing changed (a 304): it reads nothing else
    page.clock.run_for(3_500)
    wait_until(lambda: asks() == 3, "the next ask 3 s later")
    page.clock.run_for(3_500)
    wait_until(lambda: asks() == 4, "and the next")
    assert refreshes() == 2

    # a failing ask says so and waits 5 s, then 10 s, before the next try (at least the server's
    # Retry-After); the notice goes on success
    page.route(ASK, lambda route: route.fulfill(status=503, headers={"Retry-After": "1"}, body="{}"))
    page.clock.run_for(3_500)
    expect(page.get_by_text("A conversa não está sendo atualizada.")).to_be_visible()
    failed = asks()
    page.clock.run_for(4_000)
    assert asks() == failed  # not before 5 s
    page.clock.run_for(1_500)
    wait_until(lambda: asks() == failed + 1, "the second try after 5 s")
    page.unroute(ASK)
    page.route(ASK, lambda route: route.fulfill(status=429, headers={"Retry-After": "20"}, body="{}"))
    page.clock.run_for(10_500)
    wait_until(lambda: asks() == failed + 2, "the third try after 10 s")
    page.clock.run_for(15_000)
    assert asks() == failed + 2  # 30 s after a third failure, and 20 s asked by the server: not yet
    page.unroute(ASK)
    page.clock.run_for(16_000)
    wait_until(lambda: asks() == failed + 3, "the fourth try after 30 s")
    expect(page.get_by_text("A conversa não está sendo atualizada.")).to_be_hidden()


def test_a_ticket_that_failed_to_open_opens_by_itself_and_a_refresh_fills_any_hole(
    page: Page, desk: Desk, graph: MetaSimulator
) -> None:
    # the first load answers 503 once: the error shows, and the next try (5 s later) opens the ticket
    failed: list[str] = []

    def unavailable_once(route: Route) -> None:
        if failed:
            route.continue_()
        else:
            failed.append(route.request.url)
            route.fulfill(status=503, body='{"error": {"code": "unavailable", "message": "down"}}')

    page.clock.install()
    page.route(re.compile(r"/tickets/[^/?]+\?.*limit=100"), unavailable_once)
    sign_in(page, desk.tenant, f"#/tickets/{desk.tickets[BETO]}")
    expect(page.get_by_text("Não foi possível carregar o ticket.")).to_be_visible()
    page.clock.run_for(5_500)
    expect(page.locator('li.msg[data-id="wamid.desk.beto1"]')).to_be_visible()
    expect(page.get_by_text("Não foi possível carregar o ticket.")).to_be_hidden()

    # a refresh reads 2 messages here instead of 30; three arrive while the tab is hidden: on its
    # return the refresh sees a hole below what is shown and reads everything again
    page.route(
        re.compile(r"/tickets/[^/?]+\?.*limit=30"),
        lambda route: route.continue_(url=route.request.url.replace("limit=30", "limit=2")),
    )
    page.evaluate(SET_HIDDEN, True)
    now = int(time.time())
    for n in range(3):
        document = b.live(f"wamid.desk.beto.gap{n}", BETO, now + n, f"Mensagem {n} com a aba escondida")
        assert graph.deliver(b.for_number(document, PNID, WABA)) == 200

    def stored() -> int:
        _, detail = desk.tenant.api("GET", f"/tickets/{desk.tickets[BETO]}?latest=1&limit=10")
        return sum(1 for m in detail["ticket"]["messages"] if m["id"] and m["id"].startswith("wamid.desk.beto.gap"))

    wait_until(lambda: stored() == 3, "the three messages stored")
    page.evaluate(SET_HIDDEN, False)
    for n in range(3):
        expect(page.locator(f'li.msg[data-id="wamid.desk.beto.gap{n}"]')).to_be_visible()
