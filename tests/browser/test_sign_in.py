"""The API key: checked before it is kept, kept in the tab's session only, forgotten by "Sair"."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.server import LocalStack
from tests.browser.support import organization, sign_in, watch

pytestmark = pytest.mark.browser

STORED_KEY = "sessionStorage.getItem('whatrack.apiKey')"


def test_a_wrong_key_is_refused_clearly_and_a_right_one_opens_the_empty_list(page: Page, stack: LocalStack) -> None:
    tenant = organization(stack, "Chaves")
    page.goto(stack.url + "/")
    key_field = page.get_by_label("Chave de API da organização")
    expect(key_field).to_be_focused()

    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_text("Informe a chave de API.")).to_be_visible()

    key_field.fill("chave-que-nao-existe")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_text("Chave de API inválida. Confira a chave recebida ao criar a organização.")).to_be_visible()
    expect(key_field).to_have_attribute("aria-invalid", "true")
    expect(key_field).to_be_focused()
    assert page.evaluate(STORED_KEY) is None

    key_field.fill(tenant.key)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Instâncias do WhatsApp")).to_be_visible()
    expect(page.get_by_text("Nenhuma instância conectada ainda.")).to_be_visible()
    assert page.evaluate(STORED_KEY) == tenant.key
    assert page.evaluate("localStorage.length") == 0


def test_sair_forgets_the_key_and_a_revoked_key_sends_back_to_the_sign_in(page: Page, stack: LocalStack) -> None:
    tenant = organization(stack, "Sair")
    sign_in(page, tenant)
    page.get_by_role("button", name="Sair").click()
    expect(page.get_by_text("Você saiu. A chave foi apagada desta aba.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Principal")).to_be_hidden()
    expect(page.get_by_role("button", name="Sair")).to_be_hidden()
    assert page.evaluate(STORED_KEY) is None

    # a key the API stops accepting mid-session (revoked, or another stack's)
    sign_in(page, tenant, "#/new")
    page.evaluate("sessionStorage.setItem('whatrack.apiKey', 'revogada')")
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Instâncias").click()
    expect(page.get_by_text("Sua chave de API não é mais aceita. Entre de novo.")).to_be_visible()
    assert page.evaluate(STORED_KEY) is None


def test_an_address_that_is_not_a_page_shows_page_not_found(page: Page, stack: LocalStack) -> None:
    tenant = organization(stack, "Endereços")
    sign_in(page, tenant, "#/connections/%ZZ")  # not valid %-encoding: decoding it throws
    expect(page.get_by_role("heading", name="Página não encontrada")).to_be_focused()
    page.get_by_role("link", name="Voltar para as instâncias").click()
    expect(page.get_by_role("heading", name="Instâncias do WhatsApp")).to_be_visible()
    page.goto(f"{stack.url}/#/nada/aqui")
    expect(page.get_by_role("heading", name="Página não encontrada")).to_be_visible()


def test_a_dashboard_file_that_does_not_load_is_caught_but_an_api_refusal_is_not(
    browser: Browser, stack: LocalStack
) -> None:
    """What the page fixture fails a test for: a missing stylesheet or module, not a 401 from the API."""
    context = browser.new_context()
    page = context.new_page()
    problems = watch(page, stack.url)
    page.route("**/assets/app.css", lambda route: route.fulfill(status=404, body="not found"))
    page.goto(stack.url + "/")
    page.get_by_label("Chave de API da organização").fill("chave-que-nao-existe")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_text("Chave de API inválida.")).to_be_visible()
    assert problems == [f"404 {stack.url}/assets/app.css"]

    # a module that cannot be fetched at all: the dashboard never starts
    unreachable = context.new_page()
    problems = watch(unreachable, stack.url)
    unreachable.route("**/assets/js/views/lead.js", lambda route: route.abort())
    unreachable.goto(stack.url + "/")
    expect(unreachable.get_by_text("Carregando…")).to_be_visible()
    unreachable.wait_for_load_state("load")
    context.close()
    assert problems == [f"net::ERR_FAILED {stack.url}/assets/js/views/lead.js"]
