"""Ver detalhes: a gap and a failed chunk on the timeline, Meta's requests, the logs, the actions and their refusals."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from devstack.faults import FaultInjector
from devstack.meta import MetaSimulator
from devstack.server import LocalStack
from tests.browser.support import deliver, organization, screenshot, sign_in, untranslated
from tests.builders import payloads as b
from tests.builders.payloads import for_number
from tests.waiting import wait_until

pytestmark = pytest.mark.browser


def test_details_show_a_gap_a_failed_chunk_the_requests_and_why_an_action_is_refused(
    page: Page, stack: LocalStack, graph: MetaSimulator
) -> None:
    pnid, waba, token, customer = "509900000000031", "609900000000031", "EAAG-browser-details", "5511966663001"
    graph.business(waba, pnid, token=token)
    tenant = organization(stack, "Detalhes")
    connection_id = tenant.connect(pnid, waba, displayName="Loja Moema", accessToken=token)["id"]
    t0 = int(time.time()) - 86400

    def chunk(order: int, progress: int) -> dict[str, object]:
        thread = b.thread(customer, b.text(f"wamid.details.{order}", customer, t0 + order, f"mensagem {order}"))
        return for_number(b.chunk(0, order, progress, thread, pnid=pnid), pnid, waba)

    def chunks() -> list[tuple[int, str]]:
        detail = tenant.api("GET", f"/connections/{connection_id}/history-sync")[1]
        return [(c["chunkOrder"], c["status"]) for c in detail["chunks"]]

    deliver(stack, chunk(1, 20))  # chunk 2 never arrives
    wait_until(lambda: chunks() == [(1, "processed")], "the chunk processed", seen=chunks)
    # chunk 3's import keeps failing (the history consumer's transactions are refused): retried,
    # dead-lettered, and its dead letter marks it failed
    history = frozenset({"HistoryChunkFunction"})
    with FaultInjector(1.0, 0, crash_share=0, functions=history, operations=frozenset({"TransactWriteItems"})).active():
        deliver(stack, chunk(3, 40))
        wait_until(lambda: tenant.card(connection_id)["historySync"]["status"] == "failed", "the sync failed")
    requests = {r["syncType"]: r for r in tenant.card(connection_id)["historySync"]["requests"]}

    sign_in(page, tenant, f"#/connections/{connection_id}")
    expect(page.get_by_role("heading", name="Loja Moema", level=1)).to_be_visible()
    expect(page.get_by_role("list", name="Blocos da fase 0").locator(".chip")).to_have_count(3)
    received, missing, failed = (page.locator(f'[data-chunk="0:{order}"]') for order in (1, 2, 3))
    expect(received).to_have_attribute("data-status", "processed")
    expect(received).to_contain_text("20% · 1 msg")
    expect(missing).to_have_attribute("data-status", "missing")
    expect(missing).to_contain_text("faltando")
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed).to_contain_text("falhou")
    expect(page.get_by_text("2 blocos recebidos · 1 com falha · 1 faltando")).to_be_visible()
    card = page.get_by_role("article", name="Situação")
    expect(card.get_by_text("Falhou (ver detalhes)")).to_be_visible()
    expect(card.get_by_text("Um bloco do histórico não pôde ser importado")).to_be_visible()
    expect(card.get_by_text("a history change kept failing")).to_be_hidden()  # our words, folded
    expect(card.get_by_text("Verificado na Meta")).to_be_visible()
    expect(page.get_by_text("O relatório aparece quando a sincronização for concluída.")).to_be_visible()

    contacts_request = page.locator('[data-sync-type="smb_app_state_sync"]')
    history_request = page.locator('[data-sync-type="history"]')
    expect(contacts_request).to_contain_text("Contatos")
    expect(contacts_request).to_contain_text("Aceita")
    expect(contacts_request).to_contain_text(requests["smb_app_state_sync"]["requestId"])
    expect(history_request).to_contain_text("Histórico")
    expect(history_request).to_contain_text("Aceita")
    expect(history_request).to_contain_text(requests["history"]["requestId"])

    logs = page.get_by_role("list", name="Registros, os mais recentes primeiro")
    failed_log = logs.locator(".log--failed", has_text="Bloco de histórico · fase 0 · bloco 3 · 40%")
    expect(failed_log).to_contain_text("falhou")
    expect(failed_log.locator(".log__error")).to_be_visible()
    expect(logs.locator(".log", has_text="Sincronização solicitada à Meta")).to_have_count(2)

    expect(failed_log.locator(".log__error")).to_contain_text("Falhou em todas as tentativas.")
    folded = failed_log.locator("details", has_text="Detalhes técnicos")
    expect(folded.get_by_text("last attempt failed")).to_be_hidden()  # our server's words stay folded
    assert untranslated(page) == []  # no English and no raw code on the whole page
    folded.locator("summary").click()
    expect(folded.get_by_text("last attempt failed")).to_be_visible()

    # both syncs were asked of Meta already: the action that could only fail is not offered, and says why
    actions = page.get_by_role("region", name="Ações")
    request_sync = actions.get_by_role("button", name="Solicitar sincronização")
    expect(request_sync).to_be_disabled()
    expect(request_sync).to_have_accessible_description(
        re.compile("A sincronização já foi solicitada para este número")
    )
    expect(actions.get_by_role("button", name="Verificar número")).to_be_enabled()
    screenshot(page, "details.png")

    actions.get_by_role("button", name="Verificar número").click()
    expect(actions.get_by_text("Número ativo: continua no WhatsApp Business App e na Cloud API.")).to_be_visible()

    actions.get_by_role("button", name="Reprocessar blocos com falha").click()
    expect(actions.get_by_role("status")).to_contain_text("1 alteração reenviada.")
    expect(failed).to_have_attribute("data-status", "processed")
    expect(missing).to_have_attribute("data-status", "missing")
    expect(card.get_by_text("Sincronizando histórico")).to_be_visible()

    # the log a few entries a page: "Carregar mais" follows nextCursor
    page.route(
        lambda url: "/logs?" in url, lambda route: route.continue_(url=route.request.url.replace("limit=20", "limit=3"))
    )
    page.get_by_role("button", name="Atualizar").click()
    expect(logs.locator(".log")).to_have_count(3)
    more = page.get_by_role("button", name="Carregar mais")
    while more.is_visible():
        shown = logs.locator(".log").count()
        more.click()
        expect(logs.locator(".log")).not_to_have_count(shown)
    ids = [entry.get_attribute("data-id") for entry in logs.locator(".log").all()]
    assert len(ids) >= 7 and len(set(ids)) == len(ids)  # every entry once, down to the first request
    expect(logs.locator(".log").last).to_contain_text("Sincronização solicitada à Meta")
