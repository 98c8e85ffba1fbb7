"""The Meta simulator over real HTTP on 127.0.0.1: files streamed with their length and type, an answer
that never comes, Retry-After on the wire, and the control API another process uses."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.meta import MetaSimulator, StatusPlan, lost_answer, rate_limited, running_simulator

WABA, PNID, TOKEN, CUSTOMER = "401000000000555", "209000000000555", "EAAG-http", "5511966660002"


@pytest.fixture
def meta() -> Iterator[MetaSimulator]:
    with running_simulator(statuses=StatusPlan(sent=60, delivered=60, read=None)) as simulator:
        simulator.business(WABA, PNID, token=TOKEN)
        yield simulator


def call(method: str, url: str, body: Any = None, token: str | None = TOKEN) -> tuple[int, dict[str, str], bytes]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_file_is_served_with_its_type_and_length_to_the_token_only(meta: MetaSimulator) -> None:
    voice = meta.add_media(mime_type="audio/ogg; codecs=opus", size=3 * 1024 * 1024 + 17, phone_number_id=PNID)
    status, _, raw = call("GET", f"{meta.base_url}/v24.0/{voice.id}?phone_number_id={PNID}")
    assert status == 200
    url = json.loads(raw)["url"]
    assert url.startswith(f"{meta.download_host}/whatsapp_business/attachments/?mid={voice.id}&ext=")
    status, headers, content = call("GET", url)
    assert (status, headers["Content-Type"], headers["Content-Length"]) == (
        200,
        "audio/ogg; codecs=opus",
        str(voice.size),
    )
    assert hashlib.sha256(content).hexdigest() == voice.sha256_hex
    assert call("GET", url, token=None)[0] == 401


def test_a_lost_answer_closes_the_connection_after_the_send_took_effect(meta: MetaSimulator) -> None:
    meta.fail_next("messages", lost_answer())
    connection = http.client.HTTPConnection("127.0.0.1", int(meta.base_url.rsplit(":", 1)[1]), timeout=30)
    body = json.dumps({"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {"body": "oi"}})
    connection.request("POST", f"/v24.0/{PNID}/messages", body, {"Authorization": f"Bearer {TOKEN}"})
    with pytest.raises(http.client.RemoteDisconnected):
        connection.getresponse()
    [sent] = meta.messaging.sent
    assert sent.to == CUSTOMER


def test_a_429_carries_retry_after_on_the_wire(meta: MetaSimulator) -> None:
    meta.fail_next("phone_numbers", rate_limited(retry_after=3))
    status, headers, raw = call("GET", f"{meta.base_url}/v24.0/{WABA}/phone_numbers")
    assert (status, headers["Retry-After"], json.loads(raw)["error"]["code"]) == (429, "3", 130429)
    status, _, raw = call("GET", f"{meta.base_url}/v24.0/{WABA}/phone_numbers")
    assert (status, [n["id"] for n in json.loads(raw)["data"]]) == (200, [PNID])


def test_the_control_api_arranges_meta_for_another_process(meta: MetaSimulator) -> None:
    control = f"{meta.base_url}/_simulator"
    status, _, raw = call(
        "POST",
        f"{control}/businesses",
        {"wabaId": "401000000000556", "phoneNumberIds": ["209000000000556"], "token": "EAAG-ctl"},
        token=None,
    )
    assert (status, json.loads(raw)) == (201, {"token": "EAAG-ctl"})
    assert meta.accounts.can_read("EAAG-ctl", "209000000000556")
    photo = base64.b64encode(b"\x89PNG...").decode()
    status, _, raw = call(
        "POST", f"{control}/media", {"mimeType": "image/png", "contentBase64": photo, "phoneNumberId": PNID}, token=None
    )
    media = json.loads(raw)
    assert status == 201 and media["sha256"] == hashlib.sha256(b"\x89PNG...").hexdigest() and media["size"] == 7
    status, _, raw = call("POST", f"{control}/templates", {"wabaId": WABA, "name": "boas_vindas"}, token=None)
    assert status == 201 and json.loads(raw)["template"]["status"] == "APPROVED"
    status, _, raw = call("GET", f"{control}/sent", token=None)
    assert (status, json.loads(raw)) == (200, {"sent": []})
    # refusals say what is wrong
    assert call("POST", f"{control}/media", {"mimeType": "image/png"}, token=None)[0] == 400
    assert call("POST", f"{control}/businesses", [1, 2], token=None)[0] == 400
    assert call("POST", f"{control}/nothing", {}, token=None)[0] == 404


def test_what_the_simulator_cannot_handle_is_an_answer_never_a_dropped_connection(meta: MetaSimulator) -> None:
    control = f"{meta.base_url}/_simulator"
    odd = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"field": "messages", "value": {"messages": ["x"]}}]}],
    }
    status, _, raw = call("POST", f"{control}/webhooks", odd, token=None)  # nowhere to post yet
    assert status == 409 and "deliver_to" in json.loads(raw)["error"]["message"]
    connection = http.client.HTTPConnection("127.0.0.1", int(meta.base_url.rsplit(":", 1)[1]), timeout=30)
    connection.putrequest("POST", f"/v24.0/{PNID}/messages")
    connection.putheader("Content-Length", "ten")
    connection.endheaders()
    answer = connection.getresponse()
    assert (answer.status, json.loads(answer.read())["error"]["code"]) == (400, 100)
