"""Issue 21 through the local stack and its Meta simulator: a customer's photo and a document arrive,
are downloaded by the media function, kept with their digest, and served at ``media.url``; a file
Meta forgot ends ``expired``; a failing download ends ``failed`` and the retry endpoint keeps it."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import boto3
import pytest

from devstack.meta import MetaSimulator
from devstack.meta.answers import server_error
from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.localstack import ADMIN_KEY, api
from tests.waiting import wait_until
from whatrack.domain.media import signed_media_url

pytestmark = pytest.mark.e2e

PNID, WABA, TOKEN = "309900000000888", "409900000000888", "EAAG-e2e-media"
PNID2, WABA2, TOKEN2 = "309900000000889", "409900000000889", "EAAG-e2e-media-2"


def connected(
    stack: LocalStack, graph: MetaSimulator, pnid: str = PNID, waba: str = WABA, token: str = TOKEN
) -> tuple[str, str]:
    """A new organization's number, connected with its token (checked with the simulator): its key, its id."""
    graph.business(waba, pnid, token=token, display=b.BIZ)
    _, created = api(stack, "POST", "/admin/organizations", {"name": f"Loja de Mídia {pnid[-3:]}"}, ADMIN_KEY)
    key = created["apiKey"]
    body = {"phoneNumberId": pnid, "wabaId": waba, "mode": "cloud_api", "syncHistory": False, "accessToken": token}
    status, answer = api(stack, "POST", "/connections", body, key)
    assert status == 201, answer
    return key, answer["connection"]["id"]


def media_of(stack: LocalStack, key: str, customer: str, wamid: str) -> dict[str, Any] | None:
    """The message's media as the dashboard reads it: the customer's lead, its conversations' messages."""
    status, leads = api(stack, "GET", "/leads?limit=500", key=key)
    for lead in leads.get("leads", []) if status == 200 else []:
        if lead["waId"] != customer:
            continue
        _, detail = api(stack, "GET", f"/leads/{lead['id']}", key=key)
        for conversation in detail.get("conversations", []):
            _, listed = api(stack, "GET", f"/conversations/{conversation['id']}/messages?limit=50", key=key)
            for message in listed.get("messages", []):
                if message["id"] == wamid:
                    media: dict[str, Any] | None = message["media"]
                    return media
    return None


def wait_for_state(stack: LocalStack, key: str, customer: str, wamid: str, state: str) -> dict[str, Any]:
    def seen() -> str | None:
        media = media_of(stack, key, customer, wamid)
        return media["state"] if media else None

    wait_until(lambda: seen() == state, f"{wamid} {state}", seen=seen)
    media = media_of(stack, key, customer, wamid)
    assert media is not None
    return media


def media_url_key(stack: LocalStack) -> str:
    """The stack's media URL key (what the status API signs with), read as the status API reads it."""
    assert stack.provisioned is not None
    secrets = boto3.client("secretsmanager", endpoint_url=stack.aws_endpoint, region_name="us-east-1")
    answer = secrets.get_secret_value(SecretId=stack.provisioned.secrets["MediaUrlSecret"])
    return str(json.loads(answer["SecretString"])["key"])


def fetch(url: str, byte_range: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Range": byte_range} if byte_range else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_media_is_kept_served_and_named(stack: LocalStack, graph: MetaSimulator) -> None:
    key, connection_id = connected(stack, graph)
    now = int(time.time())
    photo = b"\xff\xd8\xff" + hashlib.sha256(b"photo").digest() * 40_000  # 1.3 MB
    image = graph.add_media(photo, mime_type="image/jpeg", phone_number_id=PNID)
    page = graph.add_media(b"<html><script>alert(1)</script></html>", mime_type="text/html", phone_number_id=PNID)
    gone = graph.add_media(b"old", mime_type="image/png", phone_number_id=PNID)
    graph.expire_media(gone.id)
    content = {"id": image.id, "mime_type": "image/jpeg", "sha256": image.sha256_base64, "caption": "olha"}
    photo_delivery = b.for_number(b.live_raw("wamid.media.photo", "5511955550001", now, "image", content), PNID, WABA)
    document = {"id": page.id, "mime_type": "text/html", "filename": "pedido.html"}
    doc_delivery = b.for_number(b.live_raw("wamid.media.doc", "5511955550002", now, "document", document), PNID, WABA)
    old = b.for_number(b.live_raw("wamid.media.old", "5511955550003", now, "image", {"id": gone.id}), PNID, WABA)
    for delivery in (photo_delivery, photo_delivery, doc_delivery, old):
        assert graph.deliver(delivery) == 200

    # the photo: kept once, its digest ours and Meta's, its bytes at media.url, inline and unsniffable
    kept = wait_for_state(stack, key, "5511955550001", "wamid.media.photo", "stored")
    assert (kept["sha256"], kept["size"]) == (hashlib.sha256(photo).hexdigest(), len(photo))
    status, headers, body = fetch(kept["url"])
    assert (status, body) == (200, photo)
    assert headers["Content-Type"] == "image/jpeg" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Accept-Ranges"] == "bytes"
    # a player's range (its duration, a seek): 206 with that part, as S3 and CloudFront answer
    status, headers, body = fetch(kept["url"], "bytes=100-199")
    assert (status, body, headers["Content-Range"]) == (206, photo[100:200], f"bytes 100-199/{len(photo)}")
    assert fetch(kept["url"], f"bytes={len(photo) + 10}-")[0] == 416
    downloads = [c for c in graph.calls_to("media_download") if c.query.get("mid") == image.id]
    assert len(downloads) == 1  # delivered twice, downloaded once
    # a URL altered, or past its time (signed right, with the stack's key): 403
    assert fetch(kept["url"].replace("sig=", "sig=0"))[0] == 403
    assert fetch(kept["url"].replace("exp=", "exp=1"))[0] == 403
    path = urllib.parse.urlsplit(kept["url"]).path.removeprefix("/media/")
    past = int(time.time()) - 1
    expired_url = signed_media_url(f"{stack.url}/media/", urllib.parse.unquote(path), past, media_url_key(stack))
    assert fetch(expired_url)[0] == 403
    alive_url = signed_media_url(f"{stack.url}/media/", urllib.parse.unquote(path), past + 60, media_url_key(stack))
    assert fetch(alive_url)[:1] == (200,)  # the same URL, still in its time: served

    # the HTML "document": an attachment of no type a browser would render
    served = wait_for_state(stack, key, "5511955550002", "wamid.media.doc", "stored")
    status, headers, body = fetch(served["url"])
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith('attachment; filename="pedido.html"')

    # the file Meta forgot
    expired = wait_for_state(stack, key, "5511955550003", "wamid.media.old", "expired")
    assert expired["url"] is None and expired["error"]["code"] == "expired"

    _, card = api(stack, "GET", f"/connections/{connection_id}", key=key)
    assert card["connection"]["media"] == {
        "pending": 0,
        "stored": 2,
        "failed": 0,
        "expired": 1,
        "unavailable": 0,
        "tooLarge": 0,
    }


def test_a_download_that_keeps_failing_is_failed_then_kept_after_the_retry(
    stack: LocalStack, graph: MetaSimulator
) -> None:
    key, connection_id = connected(stack, graph, PNID2, WABA2, TOKEN2)
    voice = graph.add_media(b"OggS" + b"\x00" * 5000, mime_type="audio/ogg; codecs=opus", phone_number_id=PNID2)
    # Graph keeps answering 503: each attempt's own tries, and the queue's five receives
    graph.fail_next("media", *[server_error(503)] * 200)
    note = {"id": voice.id, "mime_type": "audio/ogg; codecs=opus", "voice": True}
    voice_note = b.live_raw("wamid.media.voice", "5511955550004", int(time.time()), "audio", note)
    delivery = b.for_number(voice_note, PNID2, WABA2)
    assert graph.deliver(delivery) == 200
    failed = wait_for_state(stack, key, "5511955550004", "wamid.media.voice", "failed")
    assert failed["error"]["code"] == "2" and failed["voice"] is True  # Meta's code for its 503
    # When Meta answers again and the retry is asked for (twice)
    graph.script.pop("media", None)
    assert api(stack, "POST", f"/connections/{connection_id}/media/retry", key=key) == (202, {"retried": 1})
    assert api(stack, "POST", f"/connections/{connection_id}/media/retry", key=key) == (202, {"retried": 0})
    # Then it is kept
    kept = wait_for_state(stack, key, "5511955550004", "wamid.media.voice", "stored")
    assert kept["error"] is None and fetch(kept["url"])[0] == 200
