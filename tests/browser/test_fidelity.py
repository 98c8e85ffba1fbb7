"""A ticket's fidelity: the quote above a reply, reactions under their message, "editada" and its earlier
versions, and the types without a body as readable Portuguese summaries (``meta-webhooks.md`` §10)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from devstack.server import LocalStack
from tests.browser.support import Tenant, deliver, organization, overflowing, screenshot, sign_in
from tests.builders.fidelity_samples import FIDELITY_SAMPLES, W_ECHO, W_IN, W_LIVE
from tests.builders.payloads import BIZ, for_number
from tests.builders.samples import SAMPLES, W_MEDIA
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

PNID, WABA = "509900000000071", "609900000000071"
CONVERSATION = "Conversa, da mais antiga para a mais recente"
MESSAGES = 18
"""The originals' 4 messages and the fidelity samples' 14 (reactions, edits and the revoke are none)."""
NEVER_BUBBLES = (
    *("wamid.REACT1", "wamid.REACT2", "wamid.ECHOREACT1", "wamid.HREACT1", "wamid.HREACT2"),
    *("wamid.EDIT1", "wamid.ECHOEDIT1", "wamid.HEDIT1", "wamid.REVOKE1"),
)
"""Reactions, edits and the revoke: annotations of other messages, never bubbles of their own."""


@dataclass
class Ticket:
    tenant: Tenant
    id: str


@pytest.fixture(scope="module")
def ticket(stack: LocalStack) -> Ticket:
    """A history lead's ticket whose messages are quoted, reacted to and edited, with every bodiless type."""
    tenant = organization(stack, "Fidelidade")
    connection_id = tenant.connect(PNID, WABA, displayName="Loja Palermo", displayPhoneNumber=BIZ)["id"]

    def send(document: dict[str, Any]) -> None:
        deliver(stack, for_number(document, PNID, WABA))

    def tickets() -> list[dict[str, Any]]:
        return list(tenant.api("GET", f"/tickets?connectionId={connection_id}")[1]["tickets"])

    def leads() -> list[dict[str, Any]]:
        return list(tenant.api("GET", f"/leads?connectionId={connection_id}")[1]["leads"])

    # in order: the history makes the lead, so the live message opens a history lead's ticket
    send(SAMPLES["history_chunk"])
    wait_until(lambda: len(leads()) == 1, "one lead")
    send(SAMPLES["echo_text"])
    send(SAMPLES["messages_text"])
    wait_until(lambda: len(tickets()) == 1, "one ticket")
    [opened] = tickets()
    assert opened["originatedFrom"] == "history_lead"
    for document in FIDELITY_SAMPLES.values():
        send(document)

    def settled() -> bool:
        messages = {m["id"]: m for m in tenant.api("GET", f"/tickets/{opened['id']}")[1]["ticket"]["messages"]}
        return (
            len(messages) == MESSAGES
            and [r["emoji"] for r in messages[W_IN]["reactions"]] == ["👀"]
            and [r["emoji"] for r in messages[W_LIVE]["reactions"]] == ["❤️"]
            and messages[W_ECHO]["reactions"] == []
            and len(messages[W_ECHO]["edits"]) == 1
            and len(messages[W_LIVE]["edits"]) == 1
            and len(messages["wamid.HREPLY1"]["edits"]) == 1
            and [r["emoji"] for r in messages["wamid.HREPLY1"]["reactions"]] == ["🎉"]
            and messages["wamid.FWD1"]["deleted"]
        )

    wait_until(settled, "every sample shown in the timeline")
    return Ticket(tenant, opened["id"])


def bubble(page: Page, wamid: str) -> Locator:
    return page.locator(f'[data-id="{wamid}"]')


def open_ticket(page: Page, ticket: Ticket) -> None:
    sign_in(page, ticket.tenant, f"#/tickets/{ticket.id}")
    expect(page.get_by_role("list", name=CONVERSATION).locator("li.msg")).to_have_count(MESSAGES)


def test_the_ticket_shows_quotes_reactions_edits_and_readable_summaries(page: Page, ticket: Ticket) -> None:
    open_ticket(page, ticket)
    for wamid in NEVER_BUBBLES:
        expect(bubble(page, wamid)).to_have_count(0)

    # the quote above a reply: who wrote the quoted message and what it says now (its edited text)
    reply = bubble(page, "wamid.REPLY1")
    quoted = reply.get_by_role("button", name=re.compile("^Em resposta a Empresa"))
    expect(quoted).to_contain_text("Empresa")
    expect(quoted).to_contain_text("Sí, te lo reservo hasta el lunes.")
    expect(reply.locator(".msg__body")).to_have_text("Pode ser azul")
    quote_box, body_box = quoted.bounding_box(), reply.locator(".msg__body").bounding_box()
    assert quote_box is not None and body_box is not None and quote_box["y"] < body_box["y"]  # above
    expect(
        bubble(page, "wamid.ECHOREPLY1").get_by_role("button", name="Em resposta a Cliente: Pode ser azul")
    ).to_be_visible()
    expect(bubble(page, "wamid.HREPLY1").locator(".quote")).to_contain_text("Hola, ¿tienen stock del modelo azul?")
    expect(bubble(page, "wamid.BUTTON1").locator(".quote")).to_contain_text("Sí, te lo reservo hasta el lunes.")
    # wamid.LIVE1 quotes wamid.PRIOR, which never came
    expect(bubble(page, W_LIVE).locator(".quote")).to_have_text(re.compile(r"Mensagem anterior \(não carregada\)$"))
    # a quote leads to its message
    quoted.click()
    expect(bubble(page, W_ECHO)).to_be_focused()
    expect(bubble(page, W_ECHO)).to_be_in_viewport()

    # reactions under their message, each naming who reacted; the customer's 👍 was taken back
    history_reactions = bubble(page, W_IN).get_by_role("list", name="Reações")
    expect(history_reactions.get_by_role("listitem")).to_have_count(1)
    expect(history_reactions).to_contain_text("Empresa reagiu com 👀")
    expect(bubble(page, W_LIVE).get_by_role("list", name="Reações")).to_contain_text("Empresa reagiu com ❤️")
    expect(bubble(page, "wamid.HREPLY1").get_by_role("list", name="Reações")).to_contain_text("Cliente reagiu com 🎉")
    expect(bubble(page, W_ECHO).get_by_role("list", name="Reações")).to_have_count(0)
    under = bubble(page, W_IN).locator(".msg__reactions").bounding_box()
    text = bubble(page, W_IN).locator(".msg__body").bounding_box()
    assert under is not None and text is not None and under["y"] > text["y"] + text["height"]

    # "editada" opens on the earlier versions, the original first
    echo = bubble(page, W_ECHO)
    expect(echo.locator(".msg__body").first).to_have_text("Sí, te lo reservo hasta el lunes.")
    versions = echo.get_by_role("list", name="Versões anteriores")
    expect(versions).to_be_hidden()
    echo.get_by_text("editada", exact=True).click()
    expect(versions).to_be_visible()
    expect(versions.get_by_role("listitem")).to_have_text(
        [re.compile(r"^Versão de \d\d:\d\d: Sí, te lo reservo hasta el viernes\.$")]
    )
    expect(bubble(page, W_LIVE).locator(".msg__body").first).to_have_text("¿Hacen envíos a Rosario?")
    expect(bubble(page, W_LIVE).get_by_text("editada", exact=True)).to_be_visible()

    # the types without a body, in Portuguese
    location = bubble(page, "wamid.LOC1")
    expect(location).to_contain_text("📍 Localização: Loja Paulista, Av. Paulista, 1000")
    expect(location.get_by_role("link", name="Abrir no mapa")).to_have_attribute(
        "href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=-23\.561414&mlon=-46\.655881")
    )
    expect(bubble(page, "wamid.HLOC1")).to_contain_text("Encaminhada")
    expect(bubble(page, "wamid.HLOC1").get_by_role("link", name="Abrir no mapa")).to_be_visible()
    expect(bubble(page, "wamid.CONTACTS1")).to_contain_text("👤 Contato compartilhado: Ana Souza (+55 11 95555-0101)")
    expect(bubble(page, "wamid.INTBTN1")).to_contain_text("Resposta de botão: Sim, quero")
    expect(bubble(page, "wamid.INTLIST1")).to_contain_text("Resposta de lista: Plano Pro")
    expect(bubble(page, "wamid.BUTTON1")).to_contain_text("Botão: Quero saber mais")
    order = bubble(page, "wamid.ORDER1")
    expect(order).to_contain_text(re.compile(r"🛒 Pedido: 3 itens · R\$\s120,00"))
    expect(order).to_contain_text("Para entrega amanhã: 2 x SKU-1, 1 x SKU-9")
    expect(bubble(page, "wamid.SYSTEM1")).to_contain_text("Aviso do WhatsApp: O cliente mudou de número")
    expect(bubble(page, "wamid.EDITUNSUP1")).to_contain_text(
        "Mensagem não suportada pelo WhatsApp: Message type unknown"
    )
    poll = bubble(page, "wamid.POLL1")
    expect(poll).to_contain_text("Mensagem do tipo “poll”")
    raw = poll.get_by_text('"question": "Qual cor?"')
    expect(raw).to_be_hidden()
    poll.get_by_text("Conteúdo original").click()
    expect(raw).to_be_visible()
    # text, media and deleted messages as before
    expect(bubble(page, "wamid.FWD1")).to_contain_text("Mensagem apagada")
    expect(bubble(page, "wamid.FWD1")).not_to_contain_text("Olha essa promoção")
    # the sample's placeholder is from 2025, more than 14 days before the number was connected: Meta
    # will never send its file (CONTRACT §7 Media), and the bubble says so
    expect(bubble(page, W_MEDIA)).to_contain_text("Mídia do histórico indisponível")
    conversation = page.get_by_role("list", name=CONVERSATION)
    for leak in ("null", "undefined", "[object Object]"):
        expect(conversation).not_to_contain_text(leak)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "ticket-fidelity.png")


def test_the_ticket_fits_a_phone(page: Page, ticket: Ticket) -> None:
    page.set_viewport_size({"width": 375, "height": 812})
    open_ticket(page, ticket)
    bubble(page, "wamid.POLL1").get_by_text("Conteúdo original").click()
    bubble(page, W_ECHO).get_by_text("editada", exact=True).click()
    expect(page.locator("[aria-busy]")).to_have_count(0)
    assert overflowing(page) == []


def test_a_quote_finds_its_message_on_an_earlier_page(page: Page, ticket: Ticket) -> None:
    # two messages a page from the newest end: wamid.HREPLY1 quotes W_IN, the conversation's first
    # message, which arrives with an older page ("Carregar mensagens anteriores")
    page.route(
        lambda url: "/tickets/" in url and "latest=1" in url,
        lambda route: route.continue_(url=re.sub(r"limit=\d+", "limit=2", route.request.url)),
    )
    sign_in(page, ticket.tenant, f"#/tickets/{ticket.id}")
    more = page.locator("button.more")  # by class: a hidden button has no role to find it by
    expect(more).to_be_visible()
    expect(bubble(page, W_IN)).to_have_count(0)
    quote = bubble(page, "wamid.HREPLY1").locator(".quote")
    waited_for_its_quote = False
    for _ in range(MESSAGES):  # until the first page (one page at a time: wait for each)
        expect(more).not_to_have_attribute("aria-busy", "true")
        if bubble(page, "wamid.HREPLY1").count() and not bubble(page, W_IN).count():
            expect(quote).to_have_text(re.compile(r"Mensagem anterior \(não carregada\)$"))
            waited_for_its_quote = True
        if not more.is_visible():
            break
        more.click()
    assert waited_for_its_quote, "the reply and its quoted message came on the same page"
    expect(quote).to_have_accessible_name("Em resposta a Cliente: Hola, ¿tienen stock del modelo azul? 😀")
    # a quote of a message that is not in the conversation at all says so, once every page is in
    expect(bubble(page, W_LIVE).locator(".quote")).to_have_text(re.compile(r"Mensagem anterior \(não carregada\)$"))
