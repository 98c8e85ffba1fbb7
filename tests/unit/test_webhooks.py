"""Meta's wire format: every reference shape routes, signatures, tolerant payload models."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pydantic import ValidationError

from tests.builders.events import meta_bytes
from tests.builders.samples import SAMPLES
from whatrack.webhooks.envelope import Disposition, classify_body, classify_large_body, locate_value
from whatrack.webhooks.payloads import HistoryValue, MessageItem, Thread
from whatrack.webhooks.signature import sign, verify


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_reference_shape_is_routable(name: str) -> None:
    [change] = classify_body(meta_bytes(SAMPLES[name]))
    assert change.disposition is Disposition.ROUTE, change.error
    assert locate_value(json.loads(meta_bytes(SAMPLES[name])), change.entry_index, change.change_index) == change.value


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_reference_shape_is_judged_alike_from_its_outline(name: str) -> None:
    raw = meta_bytes(SAMPLES[name])
    [full], [outlined] = classify_body(raw), classify_large_body(raw)
    bare = "entry" not in SAMPLES[name]  # Meta's bare history value: only the full parse reads it
    assert outlined.by_reference is not bare
    assert outlined == (full if bare else replace(full, value={}, by_reference=True))


def test_an_outline_leaves_to_the_full_parse_what_only_it_refuses() -> None:
    chunk = json.loads(meta_bytes(SAMPLES["history_chunk"]))
    good = json.dumps(chunk).encode()
    # invalid UTF-8 inside the messages the outline skips: refused as the full parse refuses it
    bad_utf8 = good.replace(b'"body": "', b'"body": "' + bytes([0xFF]), 1)
    [change] = classify_large_body(bad_utf8)
    assert (change.disposition, change.error, change.by_reference) == (
        Disposition.REJECTED,
        "body is not valid UTF-8",
        False,
    )
    # an integer past 64 bits in what the outline reads (found by the fuzz tier): the full parse's float
    wide = good.replace(b'"phase": 1', b'"phase": -9223372036854775809', 1)
    assert wide != good
    [change] = classify_large_body(wide)
    assert (change.event, change.by_reference) == (
        "history_chunk phase=-9.223372036854776e+18 chunk=3 progress=40",
        False,
    )
    # NaN inside the skipped messages: the standard library accepts it, so the change is routed
    with_nan = good.replace(b'"timestamp": "', b'"nan": NaN, "timestamp": "', 1)
    assert with_nan != good
    [change] = classify_large_body(with_nan)
    assert (change.disposition, change.by_reference, change.value["history"][0]["threads"] != []) == (
        Disposition.ROUTE,
        False,
        True,
    )


def test_an_outline_is_read_for_one_change_only_and_never_breaks_on_deep_nesting() -> None:
    # two changes in one large body: the full parse decides, so a small one may still travel inline
    doc = json.loads(meta_bytes(SAMPLES["messages_text"]))
    doc["entry"][0]["changes"].append(doc["entry"][0]["changes"][0])
    assert [c.by_reference for c in classify_large_body(json.dumps(doc).encode())] == [False, False]
    # 600 levels inside what the outline decodes (found by review): judged as the full parse judges it
    deep = json.loads(meta_bytes(SAMPLES["messages_text"]))
    nested: object = "x"
    for _ in range(600):
        nested = [nested]
    deep["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = nested
    raw = json.dumps(deep).encode()
    [outlined], [full] = classify_large_body(raw), classify_body(raw)
    assert (outlined.disposition, outlined.event, outlined.error) == (full.disposition, full.event, full.error)
    assert outlined.disposition is Disposition.ROUTE


def test_signature_rejects_malformed_headers() -> None:
    raw = b"{}"
    good = sign(raw, "s")
    assert verify(raw, good, "s")
    for bad in ("", "sha1=" + good[7:], good[:-1], "sha256=", good + "00"):
        assert not verify(raw, bad, "s")
    assert not verify(raw, good, "")


def test_payload_models_tolerate_the_odd_shapes() -> None:
    value = HistoryValue.model_validate(
        {
            "metadata": {"phone_number_id": 209988776655443},
            "history": [
                {
                    "metadata": {"phase": 0, "chunk_order": 1, "progress": 100},
                    "threads": [
                        {
                            "id": "",
                            "context": {"user_id": "BR.9"},
                            "messages": [
                                {
                                    "from": "",
                                    "from_user_id": "BR.9",
                                    "id": "wamid.1",
                                    "timestamp": 1751400000,
                                    "type": "text",
                                    "text": {"body": "oi"},
                                    "history_context": {"status": "read", "from_me": False},
                                    "new_key": 1,
                                }
                            ],
                        }
                    ],
                },
                {"metadata": {"phase": 1, "chunk_order": 2, "progress": 50}},  # empty chunk
            ],
        }
    )
    [message] = value.history[0].threads[0].messages
    assert (message.from_, message.body, message.timestamp) == (None, "oi", 1751400000)
    identity = value.history[0].threads[0].counterpart("5491155550100")
    assert (identity.phone, identity.user_id) == (None, "BR.9")
    assert value.history[1].threads == []


def test_payload_models_reject_what_cannot_be_imported() -> None:
    with pytest.raises(ValidationError):
        MessageItem.model_validate({"id": "", "timestamp": "1751400000"})
    with pytest.raises(ValidationError):
        HistoryValue.model_validate(
            {
                "metadata": {"phone_number_id": "1"},
                "history": [{"metadata": {"phase": 0, "chunk_order": 1, "progress": 101}}],
            }
        )


def test_media_of_placeholder_and_followup() -> None:
    placeholder = MessageItem.model_validate({"id": "w", "timestamp": "1751400000", "type": "media_placeholder"})
    assert placeholder.media == {"id": None, "mimeType": None, "caption": None}
    image = MessageItem.model_validate(
        {
            "id": "w",
            "timestamp": "1751400000",
            "type": "image",
            "image": {"id": "m1", "mime_type": "image/jpeg", "caption": "c", "sha256": "q" * 43 + "="},
        }
    )
    assert image.media == {
        "id": "m1",
        "mimeType": "image/jpeg",
        "caption": "c",
        "filename": None,
        "voice": False,
        "animated": False,
        "metaSha256": "aa" * 32,  # Meta's base64 digest, as hex
    }
    assert image.body == "c"
    voice = MessageItem.model_validate(
        {
            "id": "v",
            "timestamp": "1751400000",
            "type": "audio",
            "audio": {"id": "m2", "mime_type": "audio/ogg; codecs=opus", "voice": True, "sha256": "AB" * 32},
        }
    )
    assert (voice.media or {})["voice"] is True and (voice.media or {})["metaSha256"] == "ab" * 32
    # a customer file over 100 MB: no media id, Meta's error 131052 on the message
    too_big = MessageItem.model_validate(
        {
            "id": "t",
            "timestamp": "1751400000",
            "type": "unsupported",
            "errors": [{"code": 131052, "title": "Media file size too big"}],
        }
    )
    assert too_big.media is not None and too_big.media["id"] is None and too_big.error_codes == {131052}
    thread = Thread.model_validate({"messages": [{"from": "5491155550100", "id": "w", "timestamp": "1751400000"}]})
    assert not thread.counterpart("5491155550100").known
