"""The ``media.url`` CloudFront Function (``infra/cloudfront/media_url.js``, D-44), run under node on
URLs the status API signs (``whatrack.domain.media.signed_media_url``): it lets through exactly what
the local stack's front serves (``devstack/media_front.py``), sends the object's own path on to the
bucket without the query, and answers 403 to everything else.

CloudFront's runtime is not node: the harness (``cloudfront_function_harness.js``) shims its two
modules (``crypto`` with node's, ``cloudfront``'s key value store) and nothing else.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from devstack.media_front import PREFIX, LocalMediaServer
from devstack.template import load_template
from whatrack.domain.media import media_signature, signed_media_url

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "infra" / "cloudfront" / "media_url.js"
HARNESS = Path(__file__).with_name("cloudfront_function_harness.js")
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed: the CloudFront Function cannot be run here (CI has it)"
)

SECRET = "Zr8VqkT2mWbY7cNf4LhJ9xPd3sGa6eUo1iKw5tRn0yBvQjHc"
BASE = "https://d111111abcdef8.cloudfront.net/media/"
KEY = "media/01JD8N3W6Q2V5Y0X7Z4A9B1C3E/4f0c2a9e8b7d6c5f4e3a2b1c0d9e8f7a"
OTHER_KEY = "media/01JD8N3W6Q2V5Y0X7Z4A9B1C3E/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
NOW = 1_764_158_400
MEDIA_URL_KEY = "media-url-key"  # where scripts/publish_dashboard.py puts it (tests/unit/test_publish_dashboard.py)
STORE = {MEDIA_URL_KEY: SECRET}


def event(url: str) -> dict[str, Any]:
    """A viewer-request event as CloudFront builds it from ``url`` (query values as sent)."""
    parts = urlsplit(url)
    querystring: dict[str, Any] = {}
    for pair in filter(None, parts.query.split("&")):
        name, _, value = pair.partition("=")
        if name in querystring:
            field = querystring[name]
            field.setdefault("multiValue", [{"value": field["value"]}]).append({"value": value})
        else:
            querystring[name] = {"value": value}
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionDomainName": parts.netloc},
        "viewer": {"ip": "203.0.113.9"},
        "request": {
            "method": "GET",
            "uri": parts.path,
            "querystring": querystring,
            "headers": {"host": {"value": parts.netloc}},
            "cookies": {},
        },
    }


def run(cases: list[tuple[float, str]], store: dict[str, str] | None = STORE) -> list[dict[str, Any]]:
    """The function's answer to each ``(now in seconds, url)``."""
    assert NODE is not None
    payload = {
        "source": str(SOURCE),
        "kvs": store,
        "cases": [{"nowMs": int(now * 1000), "event": event(url)} for now, url in cases],
    }
    done = subprocess.run(  # noqa: S603 - node on our own harness and function
        [NODE, str(HARNESS)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    assert len(answers) == len(cases)
    return answers


def forbidden(answer: dict[str, Any]) -> bool:
    return answer.get("statusCode") == 403


def with_query(url: str, query: str) -> str:
    return url.split("?", 1)[0] + "?" + query


def test_the_template_carries_the_function_file_verbatim() -> None:
    function = load_template()["Resources"]["MediaUrlFunction"]["Properties"]
    assert function["FunctionCode"] == SOURCE.read_text(encoding="utf-8"), (
        "template.yaml's MediaUrlFunction.FunctionCode must be infra/cloudfront/media_url.js, verbatim"
    )
    assert len(SOURCE.read_bytes()) <= 10 * 1024  # CloudFront Functions' code size limit


@needs_node
@pytest.mark.parametrize(
    "key",
    [KEY, "media/conn 1/ação+x%2F&y=1.jpg"],
    ids=["hash key", "key that needs quoting"],
)
def test_a_signed_url_goes_on_to_its_object_without_the_query(key: str) -> None:
    url = signed_media_url(BASE, key, NOW + 300, SECRET)
    [answer] = run([(NOW, url)])
    assert not forbidden(answer), answer
    # the bucket gets the object's own path (S3 decodes it back to the key) and no query: the
    # cache holds the file once, whoever's URL asked for it
    assert answer["uri"] == "/" + quote(key)
    assert unquote(answer["uri"][1:]) == key
    assert answer["querystring"] == {}
    assert answer["method"] == "GET" and answer["headers"] == {"host": {"value": "d111111abcdef8.cloudfront.net"}}


@needs_node
def test_a_url_is_good_until_its_end_and_not_a_moment_after() -> None:
    url = signed_media_url(BASE, KEY, NOW + 300, SECRET)
    at_end, after = run([(NOW + 300, url), (NOW + 300.001, url)])
    assert not forbidden(at_end) and forbidden(after)


def _tampered() -> dict[str, str]:
    url = signed_media_url(BASE, KEY, NOW + 300, SECRET)
    signature = media_signature(KEY, NOW + 300, SECRET)
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    path = url.split("?", 1)[0]
    return {
        "tampered signature": with_query(url, f"exp={NOW + 300}&sig={flipped}"),
        "another file's signature": with_query(
            url, f"exp={NOW + 300}&sig={media_signature(OTHER_KEY, NOW + 300, SECRET)}"
        ),
        "another file, this signature": signed_media_url(BASE, OTHER_KEY, NOW + 300, SECRET).split("?")[0]
        + f"?exp={NOW + 300}&sig={signature}",
        "end moved later": with_query(url, f"exp={NOW + 3600}&sig={signature}"),
        "expired": signed_media_url(BASE, KEY, NOW - 1, SECRET),
        "signed with another key": signed_media_url(BASE, KEY, NOW + 300, SECRET + "x"),
        "signature in capitals": with_query(url, f"exp={NOW + 300}&sig={signature.upper()}"),
        "signature cut short": with_query(url, f"exp={NOW + 300}&sig={signature[:-2]}"),
        "no query": path,
        "no sig": with_query(url, f"exp={NOW + 300}"),
        "no exp": with_query(url, f"sig={signature}"),
        "empty exp": with_query(url, f"exp=&sig={signature}"),
        "exp not digits": with_query(url, f"exp={NOW + 300}a&sig={signature}"),
        "negative exp": with_query(url, f"exp=-{NOW + 300}&sig={signature}"),
        "exp in exponent form": with_query(url, f"exp=1.7e9&sig={signature}"),
        "exp given twice": with_query(url, f"exp={NOW + 300}&exp={NOW + 300}&sig={signature}"),
        "sig given twice": with_query(url, f"exp={NOW + 300}&sig={signature}&sig={signature}"),
        "outside /media/": url.replace("/media/media/", "/mediax/media/"),
        "broken escape in the path": url.replace(KEY, KEY + "%E0%A4%A"),
        "nothing after /media/": with_query(BASE, f"exp={NOW + 300}&sig={media_signature('', NOW + 300, SECRET)}"),
    }


TAMPERED = _tampered()


@needs_node
@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_anything_but_the_signed_url_before_its_end_answers_403(case: str) -> None:
    [answer] = run([(NOW, TAMPERED[case])])
    assert forbidden(answer), answer
    assert answer["headers"]["cache-control"] == {"value": "no-store"}
    assert "uri" not in answer  # nothing goes on to the bucket


@needs_node
@pytest.mark.parametrize(
    "store",
    [None, {}, {MEDIA_URL_KEY: ""}, {MEDIA_URL_KEY: SECRET + "x"}, {"another-name": SECRET}],
    ids=["no store", "empty store", "empty key", "another key", "key under another name"],
)
def test_without_the_stacks_key_in_the_store_nothing_goes_through(store: dict[str, str] | None) -> None:
    [answer] = run([(NOW, signed_media_url(BASE, KEY, NOW + 300, SECRET))], store=store)
    assert forbidden(answer)


class _Bucket:
    """Just enough S3 for the local front: every key holds the same small file."""

    class exceptions:
        class NoSuchKey(Exception):
            pass

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"ContentType": "image/jpeg", "ContentLength": 3, "Body": io.BytesIO(b"abc")}


@needs_node
def test_the_function_and_the_local_front_accept_the_same_urls() -> None:
    # the same URLs, at the same moment, to both fronts: what one serves, the other lets through
    now = time.time()
    urls = [
        signed_media_url(BASE, KEY, int(now) + 300, SECRET),
        signed_media_url(BASE, "media/conn 1/ação+x.jpg", int(now) + 60, SECRET),
        *(
            url.replace(str(NOW + 300), str(int(now) + 300)).replace(str(NOW - 1), str(int(now) - 1))
            for url in TAMPERED.values()
        ),
    ]
    front = LocalMediaServer(_Bucket(), "media-bucket", lambda: SECRET)
    local = []
    for url in urls:
        parts = urlsplit(url)
        local.append(front.answer(parts.path, parts.query)[0])
    edge = run([(now, url) for url in urls])
    assert [200 if not forbidden(a) else 403 for a in edge] == local
    assert local[:2] == [200, 200] and set(local[2:]) == {403}
    for answer, url in zip(edge[:2], urls[:2], strict=True):
        assert PREFIX + unquote(answer["uri"][1:]) == unquote(urlsplit(url).path)
