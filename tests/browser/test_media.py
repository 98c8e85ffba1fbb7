"""Issue 21 in the dashboard: a customer's photo, voice note, document and sticker shown as WhatsApp
showed them (inline, playable, a named download), and every ending in Portuguese, with "Tentar de
novo" for a download that failed, which really downloads it again."""

from __future__ import annotations

import struct
import time
import zlib
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from devstack.meta import MetaSimulator
from devstack.meta.answers import server_error
from devstack.server import LocalStack
from tests.browser.support import deliver, organization, overflowing, screenshot, sign_in
from tests.builders import payloads as b
from tests.conftest import ROOT
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PNID, WABA, TOKEN, CUSTOMER = "509900000000091", "609900000000091", "EAAG-browser-media", "5511944440000"
CAPTION, OPUS, PDF = "Esse modelo em azul", "audio/ogg; codecs=opus", "orcamento.pdf"
DEMO_MEDIA = ROOT / "events" / "demo" / "media"


def png(width: int, height: int) -> bytes:
    """A real PNG (a green and white gradient): the browser decodes and shows it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"".join(bytes((x * 255 // width, 160, 90)) for x in range(width))
    rows = row * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


LOADED_DURATION = """(audio) => new Promise((done, failed) => {
  if (audio.readyState >= 1) return done(audio.duration);
  audio.addEventListener("loadedmetadata", () => done(audio.duration));
  audio.addEventListener("error", () => failed(new Error("the voice note did not load")));
  audio.preload = "metadata";
  audio.load();
})"""


def live(wamid: str, kind: str, content: dict[str, Any], at: int) -> dict[str, Any]:
    return b.for_number(b.live_raw(wamid, CUSTOMER, at, kind, content), PNID, WABA)


@pytest.fixture(scope="module")
def ticket(stack: LocalStack, graph: MetaSimulator) -> tuple[Any, str, str]:
    graph.business(WABA, PNID, token=TOKEN, display=b.BIZ)
    tenant = organization(stack, "Loja das Mídias")
    connection_id = tenant.connect(PNID, WABA, mode="cloud_api", syncHistory=False, accessToken=TOKEN)["id"]
    now = int(time.time())
    # the demo's real files (events/demo/media): a JPEG photo, an Opus voice note, a WebP sticker
    photo = graph.add_media((DEMO_MEDIA / "photo.jpg").read_bytes(), mime_type="image/jpeg", phone_number_id=PNID)
    voice = graph.add_media((DEMO_MEDIA / "voice.ogg").read_bytes(), mime_type=OPUS, phone_number_id=PNID)
    pdf = graph.add_media(b"%PDF-1.4\n" + bytes(12_000), mime_type="application/pdf", phone_number_id=PNID)
    sticker = graph.add_media((DEMO_MEDIA / "sticker.webp").read_bytes(), mime_type="image/webp", phone_number_id=PNID)
    gone = graph.add_media(b"x", mime_type="image/jpeg", phone_number_id=PNID)
    graph.expire_media(gone.id)
    flaky = graph.add_media(png(120, 80), mime_type="image/png", phone_number_id=PNID)
    deliveries = [
        live(
            "wamid.bm.photo",
            "image",
            {"id": photo.id, "mime_type": "image/jpeg", "caption": "Esse modelo em azul"},
            now,
        ),
        live(
            "wamid.bm.voice", "audio", {"id": voice.id, "mime_type": "audio/ogg; codecs=opus", "voice": True}, now + 1
        ),
        live(
            "wamid.bm.pdf",
            "document",
            {"id": pdf.id, "mime_type": "application/pdf", "filename": "orcamento.pdf"},
            now + 2,
        ),
        live("wamid.bm.sticker", "sticker", {"id": sticker.id, "mime_type": "image/webp"}, now + 3),
        live("wamid.bm.gone", "image", {"id": gone.id, "mime_type": "image/jpeg"}, now + 4),
    ]
    too_big = b.for_number(b.live("wamid.bm.big", CUSTOMER, now + 5), PNID, WABA)
    item = too_big["entry"][0]["changes"][0]["value"]["messages"][0]
    item |= {"type": "unsupported", "errors": [{"code": 131052, "title": "Media file size too big"}]}
    del item["text"]

    def states() -> dict[str, str]:
        _, found = tenant.api("GET", f"/tickets?connectionId={connection_id}")
        if not found["tickets"]:
            return {}
        _, detail = tenant.api("GET", f"/tickets/{found['tickets'][0]['id']}?limit=50")
        return {m["id"]: (m["media"] or {}).get("state") for m in detail["ticket"]["messages"]}

    def settled(count: int) -> bool:
        now_states = states()
        return len(now_states) == count and "pending" not in now_states.values()

    for document in [*deliveries, too_big]:
        deliver(stack, document)
    wait_until(lambda: settled(6), "the first six settled", seen=states)
    graph.fail_next("media", *[server_error(503)] * 200)  # the last one's downloads keep failing
    deliver(stack, live("wamid.bm.flaky", "image", {"id": flaky.id, "mime_type": "image/png"}, now + 6))
    wait_until(lambda: settled(7), "the failing one failed", seen=states)
    graph.script.pop("media", None)  # Meta answers again
    _, found = tenant.api("GET", f"/tickets?connectionId={connection_id}")
    return tenant, connection_id, found["tickets"][0]["id"]


def test_a_ticket_shows_each_media_as_whatsapp_did(page: Page, ticket: tuple[Any, str, str]) -> None:
    tenant, _, ticket_id = ticket
    sign_in(page, tenant, f"#/tickets/{ticket_id}")
    photo = page.locator('[data-id="wamid.bm.photo"] img.msg__image')
    expect(photo).to_be_visible()
    expect(photo).to_have_attribute("alt", "Esse modelo em azul")
    assert page.evaluate("(img) => img.complete && img.naturalWidth", photo.element_handle()) == 800
    expect(page.locator('[data-id="wamid.bm.photo"]').get_by_text("Esse modelo em azul")).to_have_count(1)  # once
    # the voice note plays: Chromium decodes its Opus and reads its length through the served URL
    voice = page.locator('[data-id="wamid.bm.voice"] audio[controls]')
    expect(voice).to_have_count(1)
    duration = page.evaluate(LOADED_DURATION, voice.element_handle())
    assert duration == pytest.approx(3.2, abs=0.1)
    document = page.locator('[data-id="wamid.bm.pdf"] a.msg__file')
    expect(document).to_contain_text("orcamento.pdf")
    expect(document).to_contain_text("orcamento.pdf · 12 KB")
    sticker = page.locator('[data-id="wamid.bm.sticker"] img.msg__sticker')
    expect(sticker).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth", sticker.element_handle()) == 512
    expect(page.locator('[data-id="wamid.bm.gone"]')).to_contain_text("Imagem: expirou na Meta")
    expect(page.locator('[data-id="wamid.bm.big"]')).to_contain_text("arquivo grande demais")
    failed = page.locator('[data-id="wamid.bm.flaky"]')
    expect(failed).to_contain_text("Imagem: falha ao baixar")
    expect(failed).to_contain_text("A Meta não entregou o arquivo depois de várias tentativas.")
    screenshot(page, "ticket-media-desktop.png")
    # "Tentar de novo": the button is busy and disabled while asked, then the file is kept and shown
    retry = failed.get_by_role("button", name="Tentar de novo")
    retry.click()
    expect(page.get_by_text("Baixando a mídia de novo.")).to_be_visible()

    def kept() -> str | None:
        _, detail = tenant.api("GET", f"/tickets/{ticket_id}?limit=50")
        [flaky] = [m for m in detail["ticket"]["messages"] if m["id"] == "wamid.bm.flaky"]
        return str(flaky["media"]["state"])

    wait_until(lambda: kept() == "stored", "the retried photo kept", seen=kept)
    page.reload()
    expect(page.locator('[data-id="wamid.bm.flaky"] img.msg__image')).to_be_visible()


def test_media_fit_a_phone(page: Page, ticket: tuple[Any, str, str]) -> None:
    tenant, _, ticket_id = ticket
    page.set_viewport_size(PHONE)
    sign_in(page, tenant, f"#/tickets/{ticket_id}")
    expect(page.locator('[data-id="wamid.bm.photo"] img.msg__image')).to_be_visible()
    assert overflowing(page) == []
    screenshot(page, "ticket-media-phone.png")
    # the number's card counts its files by state
    page.goto(f"{tenant.stack.url}/#/")
    expect(page.locator(".card__media")).to_contain_text(
        "Arquivos de mídia: 5 guardados · 1 expirado · 1 grande demais"
    )
    screenshot(page, "card-media-phone.png")
