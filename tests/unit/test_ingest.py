"""Ingest service: the contract's answer for every kind of body (CONTRACT §4), with fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.builders.events import meta_bytes
from tests.builders.samples import SAMPLES
from tests.fakes import (
    InMemoryArchive,
    InMemoryDirectory,
    InMemoryWebhookLog,
    RecordingPublisher,
    StaticSecrets,
)
from whatrack.domain.changes import WebhookField
from whatrack.domain.errors import ForbiddenError, PayloadTooLargeError, TransientError, UnauthorizedError
from whatrack.domain.log import LogStatus
from whatrack.domain.routing import ConnectionTarget
from whatrack.services.ingest import IngestService
from whatrack.webhooks.signature import sign

SECRET = "test-secret"
TARGET = ConnectionTarget("conn-1", "org-1")


class Harness:
    def __init__(self, *, archive_fails: bool = False, queue_fails: bool = False, inline_limit: int = 200_000) -> None:
        self.archive = InMemoryArchive(fail=archive_fails)
        self.publisher = RecordingPublisher(fail=queue_fails)
        self.log = InMemoryWebhookLog()
        self.directory = InMemoryDirectory()
        self.directory.add("209988776655443", "401122334455667", "5491155550100", TARGET)
        self.service = IngestService(
            archive=self.archive,
            publisher=self.publisher,
            directory=self.directory,
            webhook_log=self.log,
            secrets=StaticSecrets(app_secret=SECRET, verify_token="tok"),
            max_body_bytes=10 * 1024 * 1024,
            inline_change_limit_bytes=inline_limit,
        )

    def post(self, raw: bytes) -> Any:
        return self.service.receive(raw, sign(raw, SECRET))

    def statuses(self) -> list[LogStatus]:
        return sorted(e.status for e in self.log.entries.values())


@pytest.fixture
def h() -> Harness:
    return Harness()


# ------------------------------------------------------------------ handshake
def test_handshake_echoes_challenge_for_matching_token(h: Harness) -> None:
    assert h.service.verify_subscription("subscribe", "tok", "12345") == "12345"


@pytest.mark.parametrize(
    ("mode", "token"), [("subscribe", "wrong"), ("unsubscribe", "tok"), (None, "tok"), ("subscribe", None)]
)
def test_handshake_refuses_wrong_mode_or_token(h: Harness, mode: str | None, token: str | None) -> None:
    with pytest.raises(ForbiddenError):
        h.service.verify_subscription(mode, token, "12345")


# ------------------------------------------------------------------ signature
def test_missing_signature_is_401_and_nothing_is_stored(h: Harness) -> None:
    with pytest.raises(UnauthorizedError):
        h.service.receive(meta_bytes(SAMPLES["messages_text"]), None)
    assert h.archive.objects == {} and h.publisher.sent == [] and h.log.entries == {}


def test_wrong_signature_is_401(h: Harness) -> None:
    raw = meta_bytes(SAMPLES["messages_text"])
    with pytest.raises(UnauthorizedError):
        h.service.receive(raw, sign(raw, "another-secret"))
    assert h.archive.objects == {}


def test_signature_of_other_bytes_is_401(h: Harness) -> None:
    raw = meta_bytes(SAMPLES["messages_text"])
    reserialized = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    with pytest.raises(UnauthorizedError):
        h.service.receive(reserialized, sign(raw, SECRET))
    assert h.archive.objects == {}


def test_unicode_escapes_and_emoji_verify_over_raw_bytes(h: Harness) -> None:
    raw = meta_bytes(SAMPLES["history_chunk"])
    assert b"\\u00bf" in raw and b"\\ud83d\\ude00" in raw  # Meta's escaping of "¿" and the emoji
    report = h.post(raw)
    assert report.count(LogStatus.ROUTED) == 1
    assert h.archive.objects[report.archive_key] == raw


def test_uppercase_hex_signature_is_accepted(h: Harness) -> None:
    raw = meta_bytes(SAMPLES["messages_text"])
    header = "sha256=" + sign(raw, SECRET).removeprefix("sha256=").upper()
    assert h.service.receive(raw, header).count(LogStatus.ROUTED) == 1


# ------------------------------------------------------------------ size
def test_body_over_10_mib_is_413_and_not_processed(h: Harness) -> None:
    raw = b" " * (10 * 1024 * 1024 + 1)
    with pytest.raises(PayloadTooLargeError):
        h.service.receive(raw, sign(raw, SECRET))
    assert h.archive.objects == {}


def test_body_of_exactly_10_mib_is_accepted(h: Harness) -> None:
    doc = meta_bytes(SAMPLES["messages_text"])
    raw = doc + b" " * (10 * 1024 * 1024 - len(doc))
    assert h.post(raw).count(LogStatus.ROUTED) == 1


# ------------------------------------------------------------------ signed but bad
@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "body is empty"),
        (b"not json at all", "body is not JSON"),
        (b"[1, 2, 3]", "body must be a JSON object"),
        (b"\xff\xfe\x00", "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"entry": []}', "body.object is missing"),
        (b'{"object": "whatsapp_business_account", "entry": {"id": 1}}', "body.entry is missing or not an array"),
    ],
    ids=["empty", "not-json", "array", "not-utf8", "deep-nesting", "no-object", "entry-not-array"],
)
def test_signed_bad_body_is_archived_logged_rejected_and_acknowledged(h: Harness, raw: bytes, error: str) -> None:
    report = h.post(raw)
    assert h.archive.objects[report.archive_key] == raw
    [entry] = h.log.entries.values()
    assert entry.status is LogStatus.REJECTED
    assert error in (entry.error or "")
    assert h.publisher.sent == []


def test_unknown_object_is_ignored(h: Harness) -> None:
    report = h.post(b'{"object": "instagram", "entry": []}')
    [entry] = h.log.entries.values()
    assert entry.status is LogStatus.IGNORED and "unknown object" in (entry.error or "")
    assert report.archive_key in h.archive.objects


def test_unknown_field_is_ignored_but_neighbours_are_routed(h: Harness) -> None:
    doc = SAMPLES["messages_text"]
    doc = {
        **doc,
        "entry": [
            {
                **doc["entry"][0],
                "changes": [{"field": "message_template_status_update", "value": {}}, *doc["entry"][0]["changes"]],
            }
        ],
    }
    h.post(meta_bytes(doc))
    assert h.statuses() == [LogStatus.IGNORED, LogStatus.ROUTED]
    assert [m.field for m in h.publisher.sent] == [WebhookField.MESSAGES]


def test_missing_metadata_is_rejected(h: Harness) -> None:
    doc = json.loads(meta_bytes(SAMPLES["messages_text"]))
    del doc["entry"][0]["changes"][0]["value"]["metadata"]
    h.post(json.dumps(doc).encode())
    [entry] = h.log.entries.values()
    assert entry.status is LogStatus.REJECTED and "metadata" in (entry.error or "")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["entry"][0]["changes"][0].update(field=7),
        lambda d: d["entry"][0]["changes"][0].update(value="text"),
        lambda d: d["entry"][0]["changes"][0]["value"]["metadata"].update(phone_number_id=[1]),
        lambda d: d["entry"][0].update(changes="nope"),
        lambda d: d["entry"].__setitem__(0, "entry"),
    ],
    ids=["field-int", "value-str", "pnid-list", "changes-str", "entry-str"],
)
def test_wrong_types_are_rejected_not_crashed(h: Harness, mutate: Any) -> None:
    doc = json.loads(meta_bytes(SAMPLES["messages_text"]))
    mutate(doc)
    report = h.post(json.dumps(doc).encode())
    assert [e.status for e in h.log.entries.values()] == [LogStatus.REJECTED]
    assert report.archive_key in h.archive.objects


# ------------------------------------------------------------------ routing
@pytest.mark.parametrize(
    ("sample", "field"),
    [
        ("history_chunk", WebhookField.HISTORY),
        ("history_declined", WebhookField.HISTORY),
        ("history_declined_bare", WebhookField.HISTORY),
        ("history_media_followup_messages", WebhookField.HISTORY),
        ("state_sync", WebhookField.STATE_SYNC),
        ("echo_text", WebhookField.ECHOES),
        ("messages_text", WebhookField.MESSAGES),
        ("messages_status_failed", WebhookField.MESSAGES),
        ("account_update_partner_removed", WebhookField.ACCOUNT_UPDATE),
        ("account_update_offboarded", WebhookField.ACCOUNT_UPDATE),
    ],
)
def test_each_field_is_routed_to_its_queue_with_its_connection(h: Harness, sample: str, field: WebhookField) -> None:
    report = h.post(meta_bytes(SAMPLES[sample]))
    [message] = h.publisher.sent
    assert message.field is field
    assert (message.connection_id, message.organization_id) == ("conn-1", "org-1")
    assert message.archive_key == report.archive_key
    assert message.value is not None
    assert [e.status for e in h.log.entries.values()] == [LogStatus.ROUTED]


def test_change_for_unknown_number_is_kept_unmatched(h: Harness) -> None:
    doc = json.loads(meta_bytes(SAMPLES["history_chunk"]))
    doc["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    h.post(json.dumps(doc).encode())
    [entry] = h.log.entries.values()
    assert entry.status is LogStatus.UNMATCHED
    assert entry.phone_number_id == "999" and entry.archive_key in h.archive.objects
    assert h.publisher.sent == []


def test_large_change_travels_by_reference_never_truncated() -> None:
    h = Harness(inline_limit=2000)
    doc = json.loads(meta_bytes(SAMPLES["history_chunk"]))
    thread = doc["entry"][0]["changes"][0]["value"]["history"][0]["threads"][0]
    thread["messages"] = thread["messages"] * 50
    raw = json.dumps(doc).encode()
    h.post(raw)
    [message] = h.publisher.sent
    assert message.value is None and message.by_reference
    assert h.archive.objects[message.archive_key] == raw


def test_redelivered_body_is_one_object_and_same_log_entries(h: Harness) -> None:
    raw = meta_bytes(SAMPLES["state_sync"])
    first = h.post(raw)
    second = h.post(raw)
    assert first.archive_key == second.archive_key
    assert len(h.archive.objects) == 1
    assert len(h.log.entries) == 1
    assert [m.log_id for m in h.publisher.sent] == [first.entries[0].id] * 2


def test_archive_failure_is_transient_so_meta_retries() -> None:
    h = Harness(archive_fails=True)
    with pytest.raises(TransientError):
        h.post(meta_bytes(SAMPLES["messages_text"]))
    assert h.publisher.sent == []


def test_queue_failure_is_transient_so_meta_retries() -> None:
    h = Harness(queue_fails=True)
    with pytest.raises(TransientError):
        h.post(meta_bytes(SAMPLES["messages_text"]))
    # nothing claims "routed" while the send failed: the claim is taken back, the change is received
    assert [e.status for e in h.log.entries.values()] == [LogStatus.RECEIVED]


def test_account_update_matches_by_waba_and_display_number(h: Harness) -> None:
    h.directory.add("111", "401122334455667", "5491100000000", ConnectionTarget("conn-2", "org-1"))
    h.post(meta_bytes(SAMPLES["account_update_partner_removed"]))
    assert [m.connection_id for m in h.publisher.sent] == ["conn-1"]


def test_account_update_without_number_reaches_every_connection_of_the_waba(h: Harness) -> None:
    h.directory.add("111", "401122334455667", "5491100000000", ConnectionTarget("conn-2", "org-1"))
    h.post(meta_bytes(SAMPLES["account_update_offboarded"]))
    assert sorted(m.connection_id for m in h.publisher.sent) == ["conn-1", "conn-2"]
    assert len(h.log.entries) == 2


def test_every_secret_is_compared_in_constant_time(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signature, the verify token and API keys go through ``compare_digest`` (no ``==`` that
    stops at the first differing byte and tells an attacker how much of a guess was right)."""
    import hmac as hmac_module
    import secrets as secrets_module

    from whatrack.domain import organizations
    from whatrack.services import ingest
    from whatrack.webhooks import signature

    compared: list[tuple[bytes, bytes]] = []
    real = hmac_module.compare_digest

    def recording(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    for module in (signature.hmac, ingest.hmac):
        monkeypatch.setattr(module, "compare_digest", recording)
    monkeypatch.setattr(secrets_module, "compare_digest", recording)
    raw = meta_bytes(SAMPLES["messages_text"])
    assert h.post(raw).archive_key
    assert h.service.verify_subscription("subscribe", "tok", "c") == "c"
    assert organizations.same_secret("wtk_given", "wtk_expected") is False
    assert len(compared) == 3
    assert compared[0][0] == sign(raw, SECRET).encode()  # the whole expected header, as bytes
