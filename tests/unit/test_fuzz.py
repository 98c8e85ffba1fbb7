"""Issue 12: fuzzing every boundary a webhook crosses, on the in-memory world.

Hypothesis draws signed bodies (every documented sample with fields dropped, added or swapped for
another type, odd unicode, deep nesting, huge numbers; arbitrary JSON; arbitrary bytes) and posts
each through the ingest service, then consumes what it queued. Whatever the body: no exception
escapes (an exception here is a 5xx to Meta, for input that will never get better), the signed
body is archived, and every change it logged ends ``processed``, ``rejected`` (with its reason),
``ignored`` or, for a number no connection has, ``unmatched`` (kept for when it is connected).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import payloads as b
from tests.builders.samples import SAMPLES
from tests.fakes import InMemoryWorld
from whatrack.domain.log import LogStatus
from whatrack.domain.media import MediaState
from whatrack.webhooks.envelope import ClassifiedChange, classify_body, classify_large_body

FINAL = {LogStatus.PROCESSED, LogStatus.REJECTED, LogStatus.IGNORED, LogStatus.UNMATCHED}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

odd_text = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()),  # every code point, lone surrogates included
    max_size=40,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text,
    st.sampled_from(["", " ", "0", "1751400000", "1751400000000", "-1", "NaN", "wamid.X", b.PNID, b.BIZ]),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4), max_leaves=12
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@st.composite
def mutated_samples(draw: st.DrawFn) -> Any:
    """A documented sample with a few fields dropped, swapped for another value or type, or added."""
    document = copy.deepcopy(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in _paths(document) if len(p) < 40]  # never inside a nesting made here
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(document, path)
        action = draw(st.sampled_from(["drop", "swap", "add", "nest"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "swap":
            parent[path[-1]] = draw(json_values)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(odd_text)] = draw(json_values)
        elif action == "nest":
            value: Any = draw(json_values)
            for _ in range(draw(st.integers(min_value=50, max_value=300))):
                value = [value]
            parent[path[-1]] = value
    return document


def meta_json(document: Any) -> bytes:
    """As Meta writes bodies: compact, ASCII-escaped (a lone surrogate travels as ``\\udXXX``)."""
    return json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode()


def check(raw: bytes, inline_limit: int | None = None) -> None:
    """``inline_limit``: a small one sends every body through ingest's large-body path (its outline)."""
    world = InMemoryWorld() if inline_limit is None else InMemoryWorld(inline_change_limit_bytes=inline_limit)
    world.connect(phone_number_id=b.PNID, display_phone_number=b.BIZ)
    report = world.post(raw)  # anything raised here would be a 5xx to Meta
    world.pump()
    assert raw in world.archive.objects.values(), "a signed body was not archived"
    entries = [e for e in world.webhook_log.entries.values() if e.archive_key == report.archive_key]
    assert entries, "a signed body left no log entry"
    for entry in entries:
        assert entry.status in FINAL, (entry.status, entry.error)
        if entry.status in (LogStatus.REJECTED, LogStatus.IGNORED):
            assert entry.error, f"{entry.status} without a reason"


@FUZZ
@given(mutated_samples())
def test_every_mutated_sample_is_archived_and_ends_with_an_outcome(document: Any) -> None:
    check(meta_json(document))


@FUZZ
@given(json_values)
def test_any_json_body_is_archived_and_ends_with_an_outcome(document: Any) -> None:
    check(meta_json(document))


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_are_archived_and_end_with_an_outcome(raw: bytes) -> None:
    check(raw)


# ---------------------------------------------------------------- a large body's outline (issue 20)
def _judged(changes: list[ClassifiedChange]) -> list[tuple[Any, ...]]:
    """What ingest decides from a classification; the value aside (the outline's travels by reference)."""
    return [
        (
            c.entry_index,
            c.change_index,
            c.disposition,
            c.field,
            c.waba_id,
            c.event_time,
            c.phone_number_id,
            c.display_phone_number,
            c.event,
            c.error,
        )
        for c in changes
    ]


def same_judgement(raw: bytes) -> None:
    outlined, full = classify_large_body(raw), classify_body(raw)
    assert _judged(outlined) == _judged(full)
    for change in outlined:
        if change.by_reference:
            assert change.value == {}
        else:
            assert change in full  # the outline could not read it: the full parse decided


@FUZZ
@given(mutated_samples())
def test_a_large_bodys_outline_judges_every_mutated_sample_as_the_full_parse(document: Any) -> None:
    same_judgement(meta_json(document))
    check(meta_json(document), inline_limit=16)


@FUZZ
@given(json_values)
def test_a_large_bodys_outline_judges_any_json_as_the_full_parse(document: Any) -> None:
    same_judgement(meta_json(document))


@FUZZ
@given(st.binary(max_size=300))
def test_a_large_bodys_outline_judges_any_bytes_as_the_full_parse(raw: bytes) -> None:
    same_judgement(raw)
    check(raw, inline_limit=16)


def test_what_only_the_full_parse_refuses_inside_a_large_body_ends_rejected_with_its_reason() -> None:
    # an integer of 5,000 digits among a history chunk's messages: msgspec skips it, the standard
    # library refuses it; the consumer's full parse rejects the change with that reason (found by review)
    doc = copy.deepcopy(SAMPLES["history_chunk"])
    thread = doc["entry"][0]["changes"][0]["value"]["history"][0]["threads"][0]
    raw = meta_json(doc).replace(b'"threads":[', b'"threads":[{"big":' + b"7" * 5000 + b"},", 1)
    assert raw != meta_json(doc) and thread
    world = InMemoryWorld(inline_change_limit_bytes=1100)
    world.connect(phone_number_id=b.PNID, display_phone_number=b.BIZ)
    report = world.post(raw)
    world.pump()
    [entry] = [e for e in world.webhook_log.entries.values() if e.archive_key == report.archive_key]
    assert entry.status is LogStatus.REJECTED
    assert entry.error is not None and "the archived body cannot be read: body is not JSON" in entry.error


# ---------------------------------------------------------------- odd media objects (issue 21)
media_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(scalars, st.sampled_from(["1234567890", "wamid-like", "9" * 40])),
        "mime_type": st.one_of(scalars, st.sampled_from(["image/jpeg", "audio/ogg; codecs=opus", "text/html", "x/y"])),
        "sha256": st.one_of(scalars, st.sampled_from(["AB" * 32, "q" * 43 + "=", "not-a-digest", ""])),
        "file_size": st.one_of(st.integers(min_value=-(2**70), max_value=2**70), scalars),
        "caption": odd_text,
        "filename": odd_text,
        "voice": scalars,
        "animated": scalars,
        "url": st.one_of(scalars, st.just("https://evil.example/x")),
    },
)


@FUZZ
@given(st.sampled_from(["image", "video", "audio", "document", "sticker"]), media_objects)
def test_any_media_object_is_kept_with_a_named_state_and_every_download_ends(kind: str, content: Any) -> None:
    world = InMemoryWorld()
    token = world.graph.business(b.WABA, b.PNID)
    world.connect(phone_number_id=b.PNID, display_phone_number=b.BIZ, access_token=token)
    report = world.post(meta_json(b.live_raw("wamid.FUZZ.M", "5511987650000", 1_764_158_400, kind, content)))
    world.pump()
    entries = [e for e in world.webhook_log.entries.values() if e.archive_key == report.archive_key]
    assert entries and all(e.status in FINAL for e in entries), [(e.status, e.error) for e in entries]
    stored = world.all_messages().get("wamid.FUZZ.M")
    if stored is None:  # rejected as a whole (a change Meta's model refuses): nothing half-kept
        assert {e.status for e in entries} == {LogStatus.REJECTED}
        return
    media = stored.media
    assert media is not None and media.state in {s.value for s in MediaState}
    media_id = content.get("id")
    # an id is a non-blank string, or an integer the parser reads as one (past 64 bits it reads a float)
    whole = isinstance(media_id, int) and not isinstance(media_id, bool) and -(2**63) <= media_id < 2**64
    has_id = whole or (isinstance(media_id, str) and media_id.strip() != "")
    assert (media.state == MediaState.PENDING.value) == has_id, (media.state, media_id)
    # every job ends its file (Meta knows none of these ids): never pending for ever
    outcomes = world.run_media_jobs()
    assert all(outcome is not MediaState.PENDING for outcome in outcomes)
    after = world.all_messages()["wamid.FUZZ.M"].media
    assert after is not None and after.state != MediaState.PENDING.value
