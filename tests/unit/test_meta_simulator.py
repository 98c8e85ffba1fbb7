"""The Meta simulator in-process (``open()``, no socket): Meta's answers and codes for media, sends and
templates, the status webhooks it posts after a send, and every fault a test can script."""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest

from devstack.meta import (
    MetaSimulator,
    StatusPlan,
    lost_answer,
    media_expired,
    rate_limited,
    server_error,
    too_slow,
    url_gone,
)
from tests.waiting import wait_until
from whatrack.webhooks.signature import verify

WABA, PNID, TOKEN, CUSTOMER = "401000000000777", "209000000000777", "EAAG-sim", "5511966660001"
INSTANT = StatusPlan(sent=0.0, delivered=0.0, read=0.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Sink:
    """Where the simulator posts its webhooks: keeps each signed body, answers what it is told."""

    def __init__(self, *answers: int) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self._answers = list(answers)
        self._lock = threading.Lock()

    def __call__(self, raw: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            self.bodies.append(raw)
            self.headers.append(headers)
            return self._answers.pop(0) if self._answers else 200

    def statuses(self) -> list[dict[str, Any]]:
        with self._lock:
            documents = [json.loads(raw) for raw in self.bodies]
        return [s for d in documents for s in d["entry"][0]["changes"][0]["value"].get("statuses", [])]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def meta(clock: Clock) -> Any:
    simulator = MetaSimulator(clock=clock, statuses=INSTANT)
    simulator.business(WABA, PNID, token=TOKEN, display="5511955550100")
    yield simulator
    simulator.stop()


def call(
    meta: MetaSimulator, method: str, path: str, body: Any = None, token: str | None = TOKEN, timeout: float = 5
) -> Any:
    """A Graph call through ``open()``: ``(status, body)`` for JSON, the response for files."""
    url = path if path.startswith("http") else f"http://graph.test/v24.0/{path}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        response = meta.open(request, timeout)
    except urllib.error.HTTPError as error:
        raw = error.read()
        body = json.loads(raw) if error.headers["Content-Type"] == "application/json" else raw
        return error.code, body, dict(error.headers)
    return response


def send(meta: MetaSimulator, to: str = CUSTOMER, **body: Any) -> Any:
    payload = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "Olá!"}, **body}
    return call(meta, "POST", f"{PNID}/messages", payload)


# ------------------------------------------------------------------------------------------ media
def test_a_media_id_gives_a_short_lived_url_whose_bytes_match_metas_digest(meta: MetaSimulator, clock: Clock) -> None:
    photo = meta.add_media(b"\xff\xd8\xff" + b"jpeg" * 1000, mime_type="image/jpeg", phone_number_id=PNID)
    answer = json.loads(call(meta, "GET", f"{photo.id}?phone_number_id={PNID}").read())
    assert answer["messaging_product"] == "whatsapp" and answer["id"] == photo.id
    assert (answer["mime_type"], answer["file_size"]) == ("image/jpeg", "4003")
    assert answer["sha256"] == hashlib.sha256(b"\xff\xd8\xff" + b"jpeg" * 1000).hexdigest()
    file = call(meta, "GET", answer["url"])
    assert file.headers["Content-Type"] == "image/jpeg"
    assert hashlib.sha256(file.read()).hexdigest() == answer["sha256"]
    # the same URL without the token, or 5 minutes later, serves nothing
    assert call(meta, "GET", answer["url"], token=None)[:2] == (401, invalid_token_body())
    clock.now += 301
    assert call(meta, "GET", answer["url"])[0] == 404
    # a new URL works again, for 7 days from the message; then Graph says the id does not exist
    assert call(meta, "GET", json.loads(call(meta, "GET", photo.id).read())["url"]).read()
    clock.now += 7 * 86_400
    status, body, _ = call(meta, "GET", photo.id)
    assert (status, body["error"]["code"], body["error"]["error_subcode"]) == (400, 100, 33)


def invalid_token_body() -> dict[str, Any]:
    return {
        "error": {
            "message": "Error validating access token: The session has been invalidated.",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "AbCdEfSim123",
        }
    }


def test_a_100_mb_file_is_streamed_in_blocks_and_another_business_cannot_fetch_it(meta: MetaSimulator) -> None:
    document = meta.add_media(mime_type="application/pdf", size=100 * 1024 * 1024, phone_number_id=PNID)
    response = call(meta, "GET", json.loads(call(meta, "GET", document.id).read())["url"])
    digest, total, largest = hashlib.sha256(), 0, 0
    while block := response.read(1 << 20):
        digest.update(block)
        total, largest = total + len(block), max(largest, len(block))
    assert (total, digest.hexdigest()) == (document.size, document.sha256_hex)
    assert largest <= 1 << 20
    meta.business("401000000000888", "209000000000888", token="EAAG-other")
    status, body, _ = call(meta, "GET", document.id, token="EAAG-other")
    assert (status, body["error"]["code"]) == (400, 100)


def test_an_expired_id_and_a_gone_url_are_metas_answers(meta: MetaSimulator) -> None:
    voice = meta.add_media(b"OggS voice", mime_type="audio/ogg; codecs=opus", phone_number_id=PNID)
    meta.expire_media(voice.id)
    status, body, _ = call(meta, "GET", voice.id)
    assert (status, body["error"]["type"], body["error"]["error_subcode"]) == (400, "GraphMethodException", 33)
    image = meta.add_media(b"png", mime_type="image/png", phone_number_id=PNID)
    url = json.loads(call(meta, "GET", image.id).read())["url"]
    meta.fail_next("media_download", url_gone())
    assert call(meta, "GET", url)[0] == 404
    assert call(meta, "GET", url).read() == b"png"  # the fault was for one call only
    meta.fail_next("media", media_expired(image.id))
    assert call(meta, "GET", image.id)[1]["error"]["code"] == 100


# ------------------------------------------------------------------------------------------ sends
def test_a_send_answers_a_wamid_and_its_statuses_follow_signed_in_order(meta: MetaSimulator) -> None:
    sink = Sink()
    meta.deliver_to(sink)
    meta.customer_wrote(PNID, CUSTOMER)
    answer = json.loads(send(meta, to=f"+{CUSTOMER}", biz_opaque_callback_data="client-1").read())
    wamid = answer["messages"][0]["id"]
    assert answer["contacts"] == [{"input": f"+{CUSTOMER}", "wa_id": CUSTOMER}] and wamid.startswith("wamid.")
    wait_until(lambda: len(sink.statuses()) == 3, "three statuses posted", seen=sink.statuses)
    statuses = sink.statuses()
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert {(s["id"], s["recipient_id"], s["biz_opaque_callback_data"]) for s in statuses} == {
        (wamid, CUSTOMER, "client-1")
    }
    for raw, headers in zip(sink.bodies, sink.headers, strict=True):
        assert verify(raw, headers["x-hub-signature-256"], meta.app_secret)
    value = json.loads(sink.bodies[0])["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": "5511955550100", "phone_number_id": PNID}


def test_free_text_outside_the_window_is_accepted_then_fails_with_131047(meta: MetaSimulator, clock: Clock) -> None:
    sink = Sink()
    meta.deliver_to(sink)
    meta.customer_wrote(PNID, CUSTOMER, at=clock.now - 25 * 3600)  # wrote 25 h ago: the window closed
    assert send(meta).status == 200
    wait_until(lambda: len(sink.statuses()) == 2, "sent, then failed", seen=sink.statuses)
    sent, failed = sink.statuses()
    assert (sent["status"], failed["status"]) == ("sent", "failed")
    [error] = failed["errors"]
    assert (error["code"], error["title"]) == (131047, "Re-engagement message")
    assert "24 hours" in error["error_data"]["details"]


def test_a_window_opens_with_a_live_message_meta_delivers(meta: MetaSimulator) -> None:
    meta.deliver_to(Sink())
    live = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "5511955550100", "phone_number_id": PNID},
                            "messages": [
                                {"from": CUSTOMER, "id": "wamid.in", "timestamp": "1800000000", "type": "text"}
                            ],
                        },
                    }
                ],
            }
        ],
    }
    assert not meta.messaging.window_open(PNID, CUSTOMER)
    assert meta.deliver(live) == 200
    assert meta.messaging.window_open(PNID, CUSTOMER)


def test_templates_are_checked_and_listed_page_by_page(meta: MetaSimulator) -> None:
    sink = Sink()
    meta.deliver_to(sink)
    for name in ("boas_vindas", "retomar_contato", "pedido_enviado"):
        meta.template(WABA, name, body="Olá {{1}}, seu pedido {{2}}")
    meta.template(WABA, "rascunho", status="PENDING")
    first = json.loads(call(meta, "GET", f"{WABA}/message_templates?fields=name,status&limit=2").read())
    assert [t["name"] for t in first["data"]] == ["boas_vindas", "retomar_contato"]
    assert first["data"][0]["components"] == [{"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}}"}]
    rest = json.loads(call(meta, "GET", first["paging"]["next"]).read())
    assert [t["name"] for t in rest["data"]] == ["pedido_enviado", "rascunho"] and "next" not in rest["paging"]

    def template(name: str, *params: str) -> dict[str, Any]:
        parameters = [{"type": "text", "text": p} for p in params]
        return {"name": name, "language": {"code": "pt_BR"}, "components": [{"type": "body", "parameters": parameters}]}

    status, body, _ = send(meta, type="template", template=template("nao_existe"))
    assert (status, body["error"]["code"]) == (400, 132001)
    status, body, _ = send(meta, type="template", template=template("boas_vindas", "Ana"))
    assert (status, body["error"]["code"]) == (400, 132000)
    assert send(meta, type="template", template=template("rascunho"))[1]["error"]["code"] == 132001  # not approved
    # an approved template needs no window: it is delivered and read
    assert send(meta, type="template", template=template("boas_vindas", "Ana", "123")).status == 200
    wait_until(lambda: [s["status"] for s in sink.statuses()] == ["sent", "delivered", "read"], "the template read")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"to": ""}, 100),
        ({"text": {"body": "x" * 4097}}, 100),
        ({"text": {}}, 100),
        ({"type": "carousel"}, 100),
        ({"messaging_product": "sms"}, 100),
        ({"biz_opaque_callback_data": "x" * 513}, 100),
    ],
)
def test_what_meta_refuses_at_once_is_refused_with_its_code(
    meta: MetaSimulator, body: dict[str, Any], code: int
) -> None:
    status, answer, _ = send(meta, **body)
    assert (status, answer["error"]["code"]) == (400, code)
    assert meta.messaging.sent == []


def test_a_revoked_token_or_another_businesss_number_cannot_send(meta: MetaSimulator) -> None:
    payload = {"messaging_product": "whatsapp", "to": CUSTOMER, "text": {"body": "oi"}}
    assert call(meta, "POST", f"{PNID}/messages", payload, token="EAAG-revoked")[:2][0] == 401
    assert call(meta, "POST", "209999999999999/messages", payload)[1]["error"]["code"] == 100


def test_a_recipient_can_be_made_to_fail_every_send(meta: MetaSimulator) -> None:
    sink = Sink()
    meta.deliver_to(sink)
    meta.customer_wrote(PNID, CUSTOMER)
    meta.fail_sends_to(CUSTOMER, 131026)
    assert send(meta).status == 200
    wait_until(lambda: len(sink.statuses()) == 2, "sent, then failed")
    assert sink.statuses()[1]["errors"][0]["code"] == 131026


# ------------------------------------------------------------------------------------------ faults
def test_429_and_5xx_replace_the_call_and_nothing_is_sent(meta: MetaSimulator) -> None:
    meta.fail_next("messages", rate_limited(retry_after=2), server_error(503))
    status, body, headers = send(meta)
    assert (status, body["error"]["code"], headers["Retry-After"]) == (429, 130429, "2")
    assert send(meta)[:1] == (503,) and meta.messaging.sent == []
    assert send(meta).status == 200 and len(meta.messaging.sent) == 1


def test_a_lost_answer_or_a_timeout_still_sends_and_its_statuses_still_come(meta: MetaSimulator) -> None:
    sink = Sink()
    meta.deliver_to(sink)
    meta.customer_wrote(PNID, CUSTOMER)
    meta.fail_next("messages", lost_answer(), too_slow(30))
    with pytest.raises(http.client.RemoteDisconnected):
        send(meta)
    with pytest.raises(TimeoutError):
        send(meta)
    assert len(meta.messaging.sent) == 2  # both reached Meta: a blind retry would be a third message
    wait_until(lambda: len(sink.statuses()) == 6, "both sends' statuses")
    assert {s["id"] for s in sink.statuses()} == {sent.wamid for sent in meta.messaging.sent}


def test_an_unknown_route_cannot_be_scripted(meta: MetaSimulator) -> None:
    with pytest.raises(ValueError, match="unknown route"):
        meta.fail_next("upload", server_error())


def test_a_refused_webhook_post_is_tried_again_until_acknowledged(meta: MetaSimulator) -> None:
    sink = Sink(503, 500)  # the stack refuses twice (storage down), then acknowledges
    meta.deliver_to(sink)
    meta.customer_wrote(PNID, CUSTOMER)
    meta.messaging.plan = StatusPlan(sent=0.0, delivered=60.0, read=None)  # only "sent" within the test
    assert send(meta).status == 200
    wait_until(lambda: [status for _, status in meta.webhooks.posted] == [503, 500, 200], "the third post accepted")
    assert len({raw for raw, _ in meta.webhooks.posted}) == 1 and meta.webhooks.given_up == []


def test_a_reaction_the_business_sends_gets_only_sent(meta: MetaSimulator) -> None:
    sink = Sink()
    meta.deliver_to(sink)
    meta.customer_wrote(PNID, CUSTOMER)
    reaction = {"message_id": "wamid.in", "emoji": "👍"}
    assert send(meta, type="reaction", reaction=reaction, text=None).status == 200
    meta.customer_wrote(PNID, CUSTOMER)
    assert send(meta).status == 200  # a text after it: statuses are posted in order, so once it is read...
    reaction, text = meta.messaging.sent
    wait_until(lambda: {"id": text.wamid, "status": "read"}.items() <= _last(sink).items(), "the text read")
    # ...every status of the reaction was posted before: "sent" alone
    assert [s["status"] for s in sink.statuses() if s["id"] == reaction.wamid] == ["sent"]
    assert len(sink.statuses()) == 4


def _last(sink: Sink) -> dict[str, Any]:
    statuses = sink.statuses()
    return statuses[-1] if statuses else {}


def test_a_sink_that_raises_is_tried_again_and_the_sender_lives_on(meta: MetaSimulator) -> None:
    answers = iter([ValueError("garbled answer"), 200, 200, 200])

    def flaky(raw: bytes, headers: dict[str, str]) -> int:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    meta.deliver_to(flaky)
    meta.customer_wrote(PNID, CUSTOMER)
    assert send(meta).status == 200
    wait_until(lambda: sum(status == 200 for _, status in meta.webhooks.posted) == 3, "all three statuses posted")
    assert [status for _, status in meta.webhooks.posted].count(0) == 1 and meta.webhooks.pending == 0


def test_an_odd_template_body_is_refused_not_a_crash(meta: MetaSimulator) -> None:
    meta.template(WABA, "boas_vindas")
    odd = {"name": "boas_vindas", "language": {"code": "pt_BR"}, "components": [{"type": "body", "parameters": 3}]}
    status, body, _ = send(meta, type="template", template=odd)
    assert (status, body["error"]["code"]) == (400, 100)
    status, body, _ = send(meta, type="template", template={**odd, "components": 7})
    assert (status, body["error"]["code"]) == (400, 100)
