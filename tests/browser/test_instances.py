"""The instance list: a new card at once from the manual form, a replayed sync watched live, Embedded Signup."""

from __future__ import annotations

import re
import time
from string import Template

import pytest
from playwright.sync_api import Locator, Page, Request, Route, expect

from devstack.meta import MetaSimulator
from devstack.server import LocalStack
from tests.browser.support import deliver, organization, screenshot, sign_in, untranslated
from tests.builders import payloads as b
from tests.builders.payloads import for_number
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

TOOLTIP = "Histórico depende de aprovação no WhatsApp Business App"
SYNC_HISTORY = "Sincronizar histórico de mensagens (requer aprovação no WhatsApp Business App)"


def card_of(page: Page, name: str) -> Locator:
    return page.locator("article.card").filter(has=page.get_by_role("heading", name=name, exact=True))


def disconnect(stack: LocalStack, pnid: str, waba: str) -> None:
    """Meta's PARTNER_REMOVED for the WABA (no display number: the connection is found by its WABA)."""
    removed = for_number(b.account_update("PARTNER_REMOVED", time=int(time.time())), pnid, waba)
    removed["entry"][0]["changes"][0]["value"]["phone_number"] = None
    deliver(stack, removed)


def test_the_manual_form_validates_and_the_new_card_appears_at_once(
    page: Page, stack: LocalStack, graph: MetaSimulator
) -> None:
    tenant = organization(stack, "Formulário")
    pnid, waba = "509900000000001", "609900000000001"
    token = graph.business(waba, pnid, token="EAAG-formulario")  # the sync is asked of Meta with it
    sign_in(page, tenant)
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Nova Instância").click()
    expect(page.get_by_role("heading", name="Nova Instância")).to_be_focused()

    sync = page.get_by_label(SYNC_HISTORY)
    expect(sync).to_be_hidden()
    page.get_by_label("Criar novo número (Cloud API)").check()
    expect(sync).to_be_hidden()
    page.get_by_label("Conectar número existente (Coexistência)").check()
    expect(sync).to_be_visible()
    expect(sync).to_be_checked()

    connect = page.get_by_role("button", name="Conectar número")
    connect.click()
    phone_number_id = page.get_by_label("ID do número de telefone (obrigatório)", exact=True)
    expect(page.get_by_text("Informe o ID do número de telefone.")).to_be_visible()
    expect(page.get_by_text("Informe o ID da conta do WhatsApp Business (WABA).")).to_be_visible()
    expect(page.get_by_text("Corrija os campos destacados.")).to_be_visible()
    expect(phone_number_id).to_have_attribute("aria-invalid", "true")
    expect(phone_number_id).to_be_focused()

    phone_number_id.fill("12ab")
    page.get_by_label("Token de acesso da Meta (opcional)", exact=True).fill("token com espaço")
    connect.click()
    expect(page.get_by_text("O ID do número tem só dígitos (de 3 a 32).")).to_be_visible()
    expect(page.get_by_text("O token não pode ter espaços nem acentos.")).to_be_visible()

    # each flagged field is checked again as it is corrected
    phone_number_id.fill(pnid)
    expect(page.get_by_text("O ID do número tem só dígitos (de 3 a 32).")).to_be_hidden()
    expect(phone_number_id).not_to_have_attribute("aria-invalid", "true")
    page.get_by_label("ID da conta do WhatsApp Business (WABA) (obrigatório)", exact=True).fill(waba)
    page.get_by_label("Token de acesso da Meta (opcional)", exact=True).fill(token)
    expect(page.get_by_text("Corrija os campos destacados.")).to_be_hidden()
    page.get_by_label("Número de telefone (opcional)", exact=True).fill("+55 11 95555-0100")
    page.get_by_label("Nome de exibição (opcional)", exact=True).fill("Loja Centro")
    screenshot(page, "new-instance.png")
    page.get_by_label("Nome de exibição (opcional)", exact=True).fill("Loja <b>Centro</b>")

    # The list lags behind the write (in AWS it is read from the organization's index): the card comes
    # from the creation's answer, and keeps the refresh going until the list includes it.
    lagging_reads: list[str] = []

    def list_lagging(route: Route) -> None:
        if route.request.method == "GET":
            lagging_reads.append(route.request.url)
            route.fulfill(json={"connections": [], "nextCursor": None})
        else:
            route.continue_()

    page.route("**/connections", list_lagging)
    connect.click()
    card = card_of(page, "Loja <b>Centro</b>")  # names are text, never markup
    expect(card).to_be_visible()
    assert page.url.endswith("#/")
    expect(page.get_by_text("Instância criada: Loja <b>Centro</b>.")).to_be_visible()
    expect(card.get_by_text("Aguardando consentimento")).to_be_visible()
    expect(card.get_by_text("Coexistência")).to_be_visible()
    expect(card.get_by_text("Histórico: 0%")).to_be_visible()
    assert card.locator("b").count() == 0
    expect(page.locator(".refresh-state")).to_contain_text("atualização automática a cada 5 s")
    assert len(lagging_reads) == 1
    page.unroute("**/connections")
    # the next turn reads the real list: the card now carries the stall alert (3 s without history)
    expect(card.get_by_text("Nenhum histórico recebido")).to_be_visible()
    expect(page.locator("article.card")).to_have_count(1)
    [created] = tenant.api("GET", "/connections")[1]["connections"]
    assert (created["phoneNumberId"], created["mode"], created["syncHistory"], created["verified"]) == (
        pnid,
        "coexistence",
        True,
        True,  # checked with Meta through its token
    )

    # the same number again while it is connected: refused next to the field
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Nova Instância").click()
    page.get_by_label("Conectar número existente (Coexistência)").check()
    phone_number_id.fill(pnid)
    page.get_by_label("ID da conta do WhatsApp Business (WABA) (obrigatório)", exact=True).fill(waba)
    connect.click()
    expect(page.get_by_text("A instância não foi criada.")).to_be_visible()
    expect(page.get_by_text("Este número já está conectado.", exact=True)).to_be_visible()
    technical = page.locator("details", has_text="Detalhes técnicos")
    expect(technical.get_by_text(f"phone number id {pnid} is already connected")).to_be_hidden()  # folded

    # once Meta disconnected it, the same form connects it again (200): the same card, active
    disconnect(stack, pnid, waba)
    wait_until(lambda: tenant.card(created["id"])["connectionStatus"] == "disconnected", "the card disconnected")
    connect.click()
    expect(page.get_by_text("Número reconectado: Loja <b>Centro</b> voltou a ficar ativo.")).to_be_visible()
    expect(page.locator("article.card")).to_have_count(1)
    expect(card.get_by_text("Ativo", exact=True)).to_be_visible()


def test_a_replayed_sync_is_watched_from_waiting_to_completed_without_reloading(
    page: Page, stack: LocalStack, graph: MetaSimulator
) -> None:
    tenant = organization(stack, "Sincronização ao vivo")
    pnid, waba, customer = "509900000000011", "609900000000011", "5511966662001"
    token = graph.business(waba, pnid, token="EAAG-ao-vivo")  # the sync is asked of Meta with it
    main = tenant.connect(pnid, waba, displayName="Loja Centro", displayPhoneNumber="5511955550100", accessToken=token)
    tenant.connect("509900000000012", "609900000000012", mode="cloud_api", syncHistory=False, displayName="Loja Online")
    south = tenant.connect("509900000000013", "609900000000013", syncHistory=False, displayName="Loja Sul")
    disconnect(stack, "509900000000013", "609900000000013")
    wait_until(lambda: tenant.card(south["id"])["connectionStatus"] == "disconnected", "the card disconnected")

    list_reads: list[str] = []

    def count_list_reads(request: Request) -> None:
        if request.method == "GET" and request.url.endswith("/connections"):
            list_reads.append(request.url)

    # the first load (after the key's check) fails: the error shows, and the list is read again by
    # itself a moment later
    routed: list[str] = []

    def unavailable_after_sign_in(route: Route) -> None:
        routed.append(route.request.method)
        if routed.count("GET") == 2:
            route.fulfill(status=503, json={"error": {"code": "unavailable", "message": "try again"}})
        else:
            route.continue_()

    page.on("request", count_list_reads)
    page.route("**/connections", unavailable_after_sign_in)
    # the page's timers run on Playwright's clock: in step with real time until the end, where it is
    # moved forward at once (the page counts its own reads of the list, so the count is exact)
    page.clock.install()
    page.add_init_script(COUNT_LIST_READS)
    sign_in(page, tenant)
    page.evaluate("window.sameDocument = true")
    stamp = page.locator(".refresh-state")
    expect(page.get_by_text("Não foi possível carregar as instâncias.")).to_be_visible()
    expect(stamp).to_have_text("Nova tentativa automática em 5 s.")
    card = card_of(page, "Loja Centro")
    progress = card.get_by_role("progressbar", name="Progresso do histórico")
    expect(card.get_by_text("Aguardando consentimento")).to_be_visible()
    expect(page.get_by_text("Não foi possível carregar as instâncias.")).to_be_hidden()
    expect(stamp).to_contain_text("atualização automática a cada 5 s")
    # nothing arrived within HISTORY_STALL_AFTER_SECONDS (3 s here)
    expect(card.get_by_text("Nenhum histórico recebido")).to_be_visible()
    expect(card_of(page, "Loja Sul").get_by_text("Desconectado", exact=True)).to_be_visible()
    expect(card_of(page, "Loja Sul").get_by_text("Número desconectado.")).to_be_visible()
    expect(card_of(page, "Loja Online").get_by_text("Histórico: Não suportado")).to_be_visible()
    expect(card_of(page, "Loja Online").get_by_text("Não suportado")).to_have_count(1)  # said once
    expect(card_of(page, "Loja Online").locator(".counters")).to_have_count(0)  # no row of zeros
    expect(card_of(page, "Loja Online").get_by_text("Cloud API", exact=True)).to_be_visible()

    t0 = int(time.time()) - 3 * 86400
    deliver(stack, for_number(b.contacts(("add", customer, "Ana Souza")), pnid, waba))
    first = b.thread(customer, b.text("wamid.watch.1", customer, t0, "Oi!"), b.text("wamid.watch.2", b.BIZ, t0 + 60))
    deliver(stack, for_number(b.chunk(0, 1, 30, first, pnid=pnid), pnid, waba))
    expect(card.get_by_text("Sincronizando histórico")).to_be_visible()
    expect(progress).to_have_attribute("aria-valuenow", "30")
    expect(card.get_by_text("Último bloco: fase 0 (último dia) · bloco 1")).to_be_visible()
    expect(card.get_by_text("Nenhum histórico recebido")).to_be_hidden()
    expect(page.get_by_text("atualização automática a cada 2 s")).to_be_visible()

    second = b.thread(customer, b.text("wamid.watch.3", customer, t0 - 30 * 86400, "Tem o azul?"))
    deliver(stack, for_number(b.chunk(1, 1, 65, second, pnid=pnid), pnid, waba))
    expect(progress).to_have_attribute("aria-valuenow", "65")
    expect(card.get_by_text("Último bloco: fase 1 (dias 1 a 90) · bloco 1")).to_be_visible()
    expect(card.get_by_text("Histórico: 65%")).to_be_visible()

    # a card redrawn by the refresh gives the focus back to the control that had it
    details_link = card.get_by_role("link", name="Ver detalhes")
    details_link.focus()
    deliver(stack, for_number(b.live("wamid.watch.live", customer, int(time.time()), "Voltei!"), pnid, waba))
    wait_until(lambda: tenant.card(main["id"])["historyLeadsWithNewMessages"] == 1, "one history lead with news")
    last = b.thread(
        customer,
        b.text("wamid.watch.4", customer, t0 - 120 * 86400, "Abrem no feriado?"),
        b.placeholder("wamid.watch.5", customer, t0 - 120 * 86400 + 60),
    )
    deliver(stack, for_number(b.chunk(2, 1, 100, last, pnid=pnid), pnid, waba))
    expect(card.get_by_text("Concluído", exact=True)).to_be_visible()
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(card.get_by_text("Último bloco: fase 2 (dias 90 a 180) · bloco 1")).to_be_visible()
    expect(card.get_by_text("Histórico: 100%")).to_be_visible()
    expect(card.get_by_text("Leads do histórico que voltaram a escrever: 1")).to_be_visible()
    expect(details_link).to_be_focused()
    expect(page.locator("#anuncio")).to_have_text("Loja Centro: Concluído")
    expect(card.locator(".counter", has_text="Mensagens importadas").locator("dd")).to_have_text("5")
    expect(card.locator(".counter", has_text="Contatos").locator("dd")).to_have_text("1")
    expect(card.locator(".counter", has_text="Conversas").locator("dd")).to_have_text("1")

    # completed, but a media file is still on its way: the card keeps refreshing, slowly
    media_pending = card.locator(".counter", has_text="Mídias pendentes").locator("dd")
    expect(media_pending).to_have_text("1")
    expect(page.get_by_text("atualização automática a cada 5 s")).to_be_visible()
    deliver(stack, for_number(b.media_followup("wamid.watch.5", customer, t0 - 120 * 86400 + 60), pnid, waba))
    expect(media_pending).to_have_text("0")

    # every card is in a final state: the list is only watched for news, every 10 s (checked below)
    expect(stamp).to_contain_text("atualização automática a cada 10 s")
    reads = len(list_reads)
    assert reads >= 5

    details_link.blur()
    badge = card.get_by_text("Histórico: 100%")
    tooltip = card.get_by_role("tooltip")
    expect(tooltip).to_be_hidden()
    badge.hover()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text(TOOLTIP)
    expect(badge).to_have_accessible_description(TOOLTIP)
    screenshot(page, "instances.png")
    page.mouse.move(1, 1)
    expect(tooltip).to_be_hidden()
    badge.focus()
    expect(tooltip).to_be_visible()
    page.keyboard.press("Escape")
    expect(tooltip).to_be_hidden()

    # no read of the list for more than one slow turn (5 s) and two fast ones (2 s), and no reload:
    # the page's clock runs 5.5 s forward, firing every timer due meanwhile, however slow the machine;
    # at 10 s the list asks whether anything changed, and the answer is a 304 (nothing to read or draw)
    not_modified: list[int] = []
    page.on("response", lambda r: not_modified.append(r.status) if r.url.endswith("/connections") else None)
    counted = page.evaluate("window.listReads")
    page.clock.run_for(5_500)
    assert page.evaluate("window.listReads") == counted
    page.clock.run_for(5_000)
    wait_until(lambda: page.evaluate("window.listReads") == counted + 1 and not_modified == [304], "one 304")
    assert page.evaluate("window.sameDocument") is True


COUNT_LIST_READS = """
window.listReads = 0;
const originalFetch = window.fetch;
window.fetch = (input, init) => {
  const url = new URL(typeof input === "string" ? input : input.url, location.href);
  if (url.pathname === "/connections" && (init?.method ?? "GET") === "GET") window.listReads += 1;
  return originalFetch(input, init);
};
"""


FAKE_FACEBOOK = Template("""
window.fbCalls = {init: null, login: null};
window.FB = {
  init(options) { window.fbCalls.init = options; },
  login(callback, options) {
    window.fbCalls.login = options;
    const session = (origin, waba) => new MessageEvent("message", {origin, data: JSON.stringify({
      type: "WA_EMBEDDED_SIGNUP", event: "FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING",
      data: {waba_id: waba, phone_number_id: "$pnid"}, version: 3})});
    setTimeout(() => {
      window.dispatchEvent(session("https://evil.example", "111222333"));
      window.dispatchEvent(session("https://www.facebook.com", "$waba"));
      callback({status: "connected", authResponse: {code: "$code"}});
    }, 50);
  },
};
""")


def test_embedded_signup_sends_metas_code_and_session_and_the_card_appears(
    page: Page, stack: LocalStack, graph: MetaSimulator
) -> None:
    pnid, waba, code = "509900000000021", "609900000000021", "es-code-browser"
    graph.business(waba, pnid, token="EAAG-browser-es", code=code)
    tenant = organization(stack, "Cadastro da Meta")
    sdk_requests: list[str] = []

    def no_sdk(route: Route) -> None:
        sdk_requests.append(route.request.url)
        route.abort()

    page.route("https://connect.facebook.net/**", no_sdk)
    config = {"metaAppId": "local-app-id", "esConfigId": "cfg-test", "graphApiVersion": "v24.0", "apiBaseUrl": ""}
    page.route("**/config.json", lambda route: route.fulfill(json=config))
    page.add_init_script(FAKE_FACEBOOK.substitute(pnid=pnid, waba=waba, code=code))
    sign_in(page, tenant, "#/new")

    expect(page.get_by_label("ID do número de telefone (obrigatório)", exact=True)).to_have_count(0)
    start = page.get_by_role("button", name="Continuar com a Meta")
    start.click()
    expect(page.get_by_text("Escolha como conectar o número.")).to_be_visible()
    page.get_by_label("Conectar número existente (Coexistência)").check()
    start.click()

    card = page.locator("article.card").filter(has_text=f"ID do número {pnid}")
    expect(card).to_be_visible()
    expect(page.get_by_text("Instância criada:")).to_be_visible()
    expect(card.get_by_text("Verificado na Meta")).to_be_visible()
    expect(card.get_by_text("Aguardando consentimento")).to_be_visible()
    assert page.evaluate("window.fbCalls.init") == {"appId": "local-app-id", "version": "v24.0", "xfbml": False}
    assert page.evaluate("window.fbCalls.login") == {
        "config_id": "cfg-test",
        "response_type": "code",
        "override_default_response_type": True,
        "extras": {"setup": {}, "featureType": "whatsapp_business_app_onboarding", "sessionInfoVersion": "3"},
    }
    assert sdk_requests == []  # window.FB was there: the SDK is not loaded again
    assert len([c for c in graph.calls_to("oauth") if c.query.get("code") == code]) == 1
    [connection] = tenant.api("GET", "/connections")[1]["connections"]
    assert (connection["wabaId"], connection["phoneNumberId"], connection["syncHistory"], connection["verified"]) == (
        waba,
        pnid,
        True,
        True,
    )
    assert [(r["syncType"], r["outcome"]) for r in connection["historySync"]["requests"]] == [
        ("smb_app_state_sync", "accepted"),
        ("history", "accepted"),
    ]


def test_a_card_never_says_it_waits_or_syncs_when_nothing_can_come(page: Page, stack: LocalStack) -> None:
    """A coexistence number added without a token (nothing was asked of Meta) and a number disconnected
    in the middle of its sync: each card says what is true and what to do, and nothing is polled."""
    tenant = organization(stack, "Verdades")
    tenant.connect("509900000000061", "609900000000061", displayName="Sem Token")
    pnid, waba = "509900000000062", "609900000000062"
    stopped = tenant.connect(pnid, waba, displayName="Interrompida", syncHistory=False)
    thread = b.thread("5511966663001", b.text("wamid.truth.1", "5511966663001", int(time.time()) - 86400, "Oi"))
    deliver(stack, for_number(b.chunk(1, 1, 40, thread, pnid=pnid), pnid, waba))
    wait_until(lambda: tenant.card(stopped["id"])["historySync"]["status"] == "syncing", "the sync under way")
    disconnect(stack, pnid, waba)
    wait_until(lambda: tenant.card(stopped["id"])["connectionStatus"] == "disconnected", "the card disconnected")
    # a sync Meta completed without ever sending chunk 2 of phase 1
    gap_pnid, gap_waba = "509900000000063", "609900000000063"
    gapped = tenant.connect(gap_pnid, gap_waba, displayName="Com Lacuna", syncHistory=False)
    for phase, order, progress in [(1, 1, 30), (1, 3, 60), (2, 1, 100)]:
        chunk = b.chunk(
            phase,
            order,
            progress,
            b.thread(
                "5511966663002",
                b.text(f"wamid.gap.{phase}.{order}", "5511966663002", int(time.time()) - 86400 * (10 + order), "Oi"),
            ),
            pnid=gap_pnid,
        )
        deliver(stack, for_number(chunk, gap_pnid, gap_waba))
    wait_until(lambda: tenant.card(gapped["id"])["historySync"]["status"] == "completed", "the sync completed")
    assert tenant.card(gapped["id"])["historySync"]["chunkGaps"] == [[1, 2]]

    sign_in(page, tenant)
    waiting = card_of(page, "Sem Token")
    expect(waiting.get_by_text("Nada foi pedido à Meta")).to_be_visible()
    expect(waiting).to_contain_text("Este número não tem token de acesso")
    expect(waiting.get_by_text("Aguardando consentimento")).to_have_count(0)
    interrupted = card_of(page, "Interrompida")
    expect(interrupted.get_by_text("Sincronização parada")).to_be_visible()
    expect(interrupted).to_contain_text("Número desconectado.")  # the notice says why, and what to do
    expect(interrupted.get_by_text("Sincronizando histórico")).to_have_count(0)
    completed = card_of(page, "Com Lacuna")
    expect(completed.get_by_text("Concluído", exact=True)).to_be_visible()
    expect(completed.get_by_text("1 bloco do histórico não chegou")).to_be_visible()
    expect(completed).to_contain_text("Faltando: fase 1 · bloco 2.")
    # no card can change by itself: the list is only watched for news (a 304 while nothing changes)
    expect(page.locator(".refresh-state")).to_contain_text("atualização automática a cada 10 s")
    screenshot(page, "cards-truths.png")
    assert untranslated(page) == []

    # its details offer no action that can only fail: each is disabled, with the reason and what to do
    waiting.get_by_role("link", name="Ver detalhes").click()
    actions = page.get_by_role("region", name="Ações")
    no_token = re.compile("Esta conexão não tem token de acesso da Meta. Conecte o número")
    for name in ("Solicitar sincronização", "Verificar número"):
        expect(actions.get_by_role("button", name=name)).to_be_disabled()
        expect(actions.get_by_role("button", name=name)).to_have_accessible_description(no_token)
    expect(actions.get_by_role("button", name="Reprocessar blocos com falha")).to_be_enabled()
