"""`make deploy`'s media.url key step (scripts/publish_dashboard.py, D-44): MediaUrlSecret's key is
copied into the key value store the distribution's function reads, only when it is not there yet or
differs, with the store's ETag, and the key itself is never printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts import publish_dashboard as publisher

ROOT = Path(__file__).resolve().parents[2]
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:MediaUrlSecret-AbCdEf"
STORE_ARN = "arn:aws:cloudfront::123456789012:key-value-store/0a1b2c3d-1111-2222-3333-444455556666"
TARGET = publisher.MediaUrlKeyTarget(SECRET_ARN, STORE_ARN)


class FakeSecrets:
    def __init__(self, value: Any) -> None:
        self.value = value

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        assert SecretId == SECRET_ARN
        return {"SecretString": json.dumps(self.value)}


class FakeKeyValueStore:
    """CloudFront's key value store API as the script uses it: a write must carry the store's ETag."""

    class exceptions:
        class ResourceNotFoundException(Exception):
            pass

        class ConflictException(Exception):
            pass

    def __init__(self, items: dict[str, str] | None = None) -> None:
        self.items = dict(items or {})
        self.etag = "ETAG-1"
        self.puts: list[dict[str, str]] = []

    def get_key(self, KvsARN: str, Key: str) -> dict[str, Any]:
        assert KvsARN == STORE_ARN
        if Key not in self.items:
            raise self.exceptions.ResourceNotFoundException(Key)
        return {"Key": Key, "Value": self.items[Key], "ItemCount": len(self.items), "TotalSizeInBytes": 1}

    def describe_key_value_store(self, KvsARN: str) -> dict[str, Any]:
        assert KvsARN == STORE_ARN
        return {"KvsARN": KvsARN, "ETag": self.etag, "Status": "READY", "ItemCount": len(self.items)}

    def put_key(self, KvsARN: str, Key: str, Value: str, IfMatch: str) -> dict[str, Any]:
        assert KvsARN == STORE_ARN
        if IfMatch != self.etag:
            raise self.exceptions.ConflictException(IfMatch)
        self.items[Key] = Value
        self.puts.append({"Key": Key, "Value": Value, "IfMatch": IfMatch})
        self.etag = f"ETAG-{len(self.puts) + 1}"
        return {"ETag": self.etag, "ItemCount": len(self.items), "TotalSizeInBytes": 1}


def test_the_key_is_written_into_an_empty_store_with_its_etag() -> None:
    store = FakeKeyValueStore()
    outcome = publisher.media_url_key_step(FakeSecrets({"key": "k1"}), store, TARGET)
    assert outcome == "written"
    assert store.puts == [{"Key": publisher.MEDIA_URL_KEY, "Value": "k1", "IfMatch": "ETAG-1"}]
    assert store.items == {publisher.MEDIA_URL_KEY: "k1"}


def test_the_same_key_is_not_written_again() -> None:
    store = FakeKeyValueStore({publisher.MEDIA_URL_KEY: "k1"})
    assert publisher.media_url_key_step(FakeSecrets({"key": "k1"}), store, TARGET) == "unchanged"
    assert store.puts == []


def test_a_rotated_secret_replaces_the_key_and_leaves_the_rest_of_the_store() -> None:
    store = FakeKeyValueStore({publisher.MEDIA_URL_KEY: "old", "something-else": "kept"})
    store.etag = "ETAG-7"
    assert publisher.media_url_key_step(FakeSecrets({"key": "new"}), store, TARGET) == "replaced"
    assert store.puts == [{"Key": publisher.MEDIA_URL_KEY, "Value": "new", "IfMatch": "ETAG-7"}]
    assert store.items == {publisher.MEDIA_URL_KEY: "new", "something-else": "kept"}
    # and a second run has nothing to do
    assert publisher.media_url_key_step(FakeSecrets({"key": "new"}), store, TARGET) == "unchanged"
    assert len(store.puts) == 1


@pytest.mark.parametrize("secret", [{}, {"key": ""}, {"key": 5}, ["key"]], ids=["no key", "empty", "number", "list"])
def test_a_secret_without_a_key_stops_the_step_and_writes_nothing(secret: Any) -> None:
    store = FakeKeyValueStore()
    with pytest.raises(SystemExit, match="has no 'key'"):
        publisher.media_url_key_step(FakeSecrets(secret), store, TARGET)
    assert store.puts == []


def test_the_key_goes_under_the_name_the_function_reads() -> None:
    # infra/cloudfront/media_url.js (run under node by tests/infra/test_media_url_function.py)
    source = (ROOT / "infra" / "cloudfront" / "media_url.js").read_text(encoding="utf-8")
    assert f"const KEY_NAME = '{publisher.MEDIA_URL_KEY}';" in source
    assert "keys.get(KEY_NAME)" in source


def test_the_target_comes_from_the_stacks_outputs() -> None:
    outputs = {"MediaUrlSecretArn": SECRET_ARN, "MediaUrlKeyValueStoreArn": STORE_ARN, "DashboardBucketName": "b"}
    assert publisher.media_url_key_target(outputs) == TARGET
    # a stack from before the media behavior has nothing to copy into
    assert publisher.media_url_key_target({"MediaUrlSecretArn": SECRET_ARN}) is None
    assert publisher.media_url_key_target({"MediaUrlKeyValueStoreArn": STORE_ARN}) is None


class FakeSession:
    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def client(self, name: str) -> Any:
        return self.clients[name]


class FakeCloudFormation:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        described = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
        return {"Stacks": [{"StackName": StackName, "Outputs": described}]}


OUTPUTS = {
    "DashboardBucketName": "dashboard-bucket",
    "DashboardDistributionId": "E2EXAMPLE",
    "DashboardConfig": '{"metaAppId": "", "esConfigId": "", "graphApiVersion": "v24.0", "apiBaseUrl": ""}',
    "MediaUrlSecretArn": SECRET_ARN,
    "MediaUrlKeyValueStoreArn": STORE_ARN,
}


def _main_with(
    monkeypatch: pytest.MonkeyPatch, store: FakeKeyValueStore, outputs: dict[str, str], crt: bool = True
) -> None:
    published: list[publisher.Target] = []

    def publish(s3: Any, cloudfront: Any, target: publisher.Target) -> publisher.Published:
        published.append(target)
        return publisher.Published(["index.html"], [], "I2EXAMPLE")

    session = FakeSession(
        {
            "cloudformation": FakeCloudFormation(outputs),
            "s3": object(),
            "cloudfront": object(),
            "secretsmanager": FakeSecrets({"key": "the-secret-key"}),
            "cloudfront-keyvaluestore": store,
        }
    )
    monkeypatch.setattr(publisher.boto3.session, "Session", lambda region_name: session)
    monkeypatch.setattr(publisher, "publish", publish)
    monkeypatch.setattr(publisher, "can_sign_key_value_store_calls", lambda: crt)
    assert publisher.main(["--stack", "whatrack-test", "--region", "us-east-1"]) == 0
    assert [t.bucket for t in published] == ["dashboard-bucket"]


def test_deploy_publishes_the_dashboard_then_copies_the_key_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FakeKeyValueStore()
    _main_with(monkeypatch, store, OUTPUTS)
    printed = capsys.readouterr().out
    assert store.items == {publisher.MEDIA_URL_KEY: "the-secret-key"}
    assert f"media.url key: copied from MediaUrlSecret into the key value store {STORE_ARN}" in printed
    assert "the-secret-key" not in printed
    # run again: nothing to write, and it says so
    _main_with(monkeypatch, store, OUTPUTS)
    assert f"media.url key: already in the key value store {STORE_ARN}" in capsys.readouterr().out
    assert len(store.puts) == 1


def test_a_stack_without_the_store_gets_its_dashboard_and_a_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    older = {k: v for k, v in OUTPUTS.items() if not k.startswith("MediaUrl")}
    store = FakeKeyValueStore()
    _main_with(monkeypatch, store, older, crt=False)
    assert "the stack has no MediaUrlKeyValueStoreArn output" in capsys.readouterr().out
    assert store.puts == []


def test_without_the_crt_signer_nothing_is_published(monkeypatch: pytest.MonkeyPatch) -> None:
    # the key value store API is SigV4A-signed: stop before the upload rather than half-way through
    published: list[Any] = []
    session = FakeSession({"cloudformation": FakeCloudFormation(OUTPUTS)})
    monkeypatch.setattr(publisher.boto3.session, "Session", lambda region_name: session)
    monkeypatch.setattr(publisher, "publish", lambda *args: published.append(args))
    monkeypatch.setattr(publisher, "can_sign_key_value_store_calls", lambda: False)
    with pytest.raises(SystemExit, match="pip install awscrt"):
        publisher.main(["--stack", "whatrack-test", "--region", "us-east-1"])
    assert published == []


def test_the_crt_check_asks_botocore() -> None:
    from botocore.compat import HAS_CRT

    assert publisher.can_sign_key_value_store_calls() is bool(HAS_CRT)
