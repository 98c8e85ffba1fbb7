"""The API key: checked before it is kept, kept in the tab's session only, forgotten by "Sair"."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from devstack.server import LocalStack
from tests.browser.support import organization, sign_in

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
