"""House rules that keep the code base honest: generated files current, settings, thin handlers."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

import pytest

from tests.builders.events import EVENTS, LOCAL_APP_SECRET, build, render
from tests.conftest import ROOT
from whatrack.config import ConsumerSettings, IngestSettings
from whatrack.domain.errors import ConfigurationError
from whatrack.webhooks.signature import verify


def test_events_on_disk_are_current() -> None:
    """``events/`` is generated (`python scripts/make_events.py`); this fails when it drifts."""
    for relative, content in build().items():
        assert (EVENTS / relative).read_text(encoding="utf-8") == render(content), relative


def test_ingest_events_are_signed_with_the_local_secret() -> None:
    signed = 0
    for path in (EVENTS / "webhook_ingest").glob("post_*.json"):
        event = json.loads(path.read_text())
        if "x-hub-signature-256" not in event["headers"]:
            continue
        raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
        assert verify(raw, event["headers"]["x-hub-signature-256"], LOCAL_APP_SECRET), path.name
        signed += 1
    assert signed >= 5


def test_settings_name_the_missing_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACCOUNTS_TABLE_NAME", "INBOX_TABLE_NAME", "LOG_TABLE_NAME"):
        monkeypatch.setenv(name, name.lower())
    monkeypatch.delenv("ARCHIVE_BUCKET_NAME", raising=False)
    monkeypatch.delenv("MEDIA_QUEUE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="ARCHIVE_BUCKET_NAME, MEDIA_QUEUE_URL"):
        ConsumerSettings.load()
    monkeypatch.setenv("ARCHIVE_BUCKET_NAME", "bucket")
    monkeypatch.setenv("MEDIA_QUEUE_URL", "https://sqs/media")
    monkeypatch.setenv("DEAD_LETTER_QUEUE_ARNS", "arn:aws:sqs:us-east-1:1:dlq, arn:aws:sqs:us-east-1:1:dlq2")
    settings = ConsumerSettings.load()
    assert settings.archive_bucket_name == "bucket"
    assert settings.is_dead_letter_queue("arn:aws:sqs:us-east-1:1:dlq2") and not settings.is_dead_letter_queue("arn:x")
    assert "META_SECRET_ARN" in IngestSettings.required_env()
    # values are read as the old settings library read them: surrounding blanks do not count
    monkeypatch.setenv("HISTORY_IMPORT_WORKERS", " 4 ")
    assert ConsumerSettings.load().history_import_workers == 4
    monkeypatch.setenv("HISTORY_IMPORT_WORKERS", "0")
    with pytest.raises(ConfigurationError, match="HISTORY_IMPORT_WORKERS"):
        ConsumerSettings.load()


def test_a_version_is_checked_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A version is checked whole: blanks around it are dropped, anything else after it is refused."""
    from whatrack.config import WatchdogSettings

    for name in ("ACCOUNTS_TABLE_NAME", "INBOX_TABLE_NAME", "LOG_TABLE_NAME", "META_SECRET_ARN"):
        monkeypatch.setenv(name, name.lower())
    monkeypatch.setenv("ACCESS_TOKEN_SECRET_PREFIX", "p/")
    monkeypatch.setenv("ALERTS_TOPIC_ARN", "arn:aws:sns:us-east-1:1:t")
    monkeypatch.setenv("MEDIA_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/media")
    monkeypatch.setenv("REPLIES_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/replies.fifo")
    monkeypatch.setenv("GRAPH_API_VERSION", "v24.0x")
    with pytest.raises(ConfigurationError, match="GRAPH_API_VERSION"):
        WatchdogSettings.load()
    monkeypatch.setenv("GRAPH_API_VERSION", "v25.0")
    assert WatchdogSettings.load().graph_api_version == "v25.0"


def test_no_sys_path_hacks() -> None:
    for path in list((ROOT / "tests").rglob("*.py")) + list((ROOT / "functions").rglob("*.py")):
        if path != Path(__file__):
            assert "sys" + ".path" not in path.read_text(), path


def test_handlers_are_thin() -> None:
    """Every function in a handler module parses, calls one service and returns: a few lines."""
    for path in (ROOT / "functions").glob("*/app.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                body_lines = node.body[-1].end_lineno - node.body[0].lineno + 1  # type: ignore[operator]
                assert body_lines <= 15, f"{path.parent.name}.{node.name} has {body_lines} lines"


def test_no_test_imports_scripts() -> None:
    """Test builders live in ``tests/builders``; scripts use them, never the other way round. The one
    exception is a script's own test: ``test_<script>.py`` may import ``scripts.<script>``."""
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "scripts":
                imported = [f"scripts.{a.name}" for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            elif isinstance(node, ast.Import):
                imported = [a.name for a in node.names]
            else:
                continue
            offenders += [
                f"{path.name}: {name}"
                for name in imported
                if name.split(".")[0] == "scripts" and name != f"scripts.{path.stem.removeprefix('test_')}"
            ]
    assert offenders == []


def test_domain_layer_modules_stay_small() -> None:
    """A module that grows past ~400 lines is asking to be split."""
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in (ROOT / "layers" / "domain" / "whatrack").rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 420} == {}


def test_committed_openapi_document_matches_the_code() -> None:
    """docs/openapi.json is generated (`make openapi`); this fails when code and document drift."""
    from openapi_spec_validator import validate

    from functions.status_api.app import openapi_document
    from whatrack.api.openapi import pretty

    current = pretty(openapi_document())
    assert (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8") == current, "run `make openapi` and commit it"
    validate(json.loads(current))
