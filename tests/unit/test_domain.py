"""Envelope samples, events, settings, services and the import boundary of the core."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from scripts.make_events import SAMPLES, build, meta_bytes, render
from tests.conftest import EVENTS, ROOT
from tests.unit.fakes import InMemoryConnections, InMemoryOrganizations, InMemoryVault, StaticSecrets
from whatrack.config import ConsumerSettings, IngestSettings
from whatrack.connections import ConnectionMode, ConnectionService, HistorySyncStatus, NewConnection
from whatrack.errors import ConfigurationError, ConflictError, NotFoundError, UnauthorizedError
from whatrack.organizations import OrganizationService, hash_api_key
from whatrack.webhooks.envelope import Disposition, classify_body, locate_value
from whatrack.webhooks.signature import sign, verify


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_reference_shape_is_routable(name: str) -> None:
    [change] = classify_body(meta_bytes(SAMPLES[name]))
    assert change.disposition is Disposition.ROUTE, change.error
    assert locate_value(json.loads(meta_bytes(SAMPLES[name])), change.entry_index, change.change_index) == change.value


def test_events_on_disk_are_current() -> None:
    for relative, content in build().items():
        assert (EVENTS / relative).read_text(encoding="utf-8") == render(content), relative


def test_ingest_events_are_signed_with_the_local_secret() -> None:
    for path in (EVENTS / "webhook_ingest").glob("post_*.json"):
        event = json.loads(path.read_text())
        if "x-hub-signature-256" not in event["headers"]:
            continue
        import base64

        raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
        assert verify(raw, event["headers"]["x-hub-signature-256"], "local-app-secret"), path.name


def test_signature_rejects_malformed_headers() -> None:
    raw = b"{}"
    good = sign(raw, "s")
    assert verify(raw, good, "s")
    for bad in ("", "sha1=" + good[7:], good[:-1], "sha256=", good + "00"):
        assert not verify(raw, bad, "s")
    assert not verify(raw, good, "")


def test_settings_name_the_missing_variables() -> None:
    with pytest.raises(ConfigurationError, match="ARCHIVE_BUCKET_NAME"):
        ConsumerSettings.from_env({"ACCOUNTS_TABLE_NAME": "a", "INBOX_TABLE_NAME": "i", "LOG_TABLE_NAME": "l"})
    assert "META_SECRET_ARN" in IngestSettings.required_env()


def test_core_imports_no_aws_sdk() -> None:
    """Only whatrack.adapters (and the composition root) may import boto3, botocore or pynamodb."""
    package = ROOT / "layers" / "domain" / "whatrack"
    offenders = []
    for path in package.rglob("*.py"):
        relative = path.relative_to(package)
        if relative.parts[0] == "adapters" or relative.name == "bootstrap.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{relative}: {n}" for n in names if n.split(".")[0] in {"boto3", "botocore", "pynamodb"}]
    assert offenders == []


def test_organization_keys_are_stored_only_as_hashes() -> None:
    repo = InMemoryOrganizations()
    service = OrganizationService(repo, StaticSecrets())
    organization, api_key = service.create("Acme")
    assert api_key not in repo.by_hash and hash_api_key(api_key) in repo.by_hash
    assert service.authenticate(f"Bearer {api_key}") == organization
    for header in (None, "", "Bearer", "Basic abc", "Bearer wrong"):
        with pytest.raises(UnauthorizedError):
            service.authenticate(header)
    with pytest.raises(UnauthorizedError):
        service.require_admin("Bearer not-admin")
    service.require_admin("Bearer admin-key")


@pytest.mark.parametrize(
    ("mode", "sync", "status"),
    [
        ("cloud_api", True, HistorySyncStatus.NOT_SUPPORTED),
        ("coexistence", True, HistorySyncStatus.PENDING_CONSENT),
        ("coexistence", False, HistorySyncStatus.NOT_REQUESTED),
    ],
)
def test_initial_history_status(mode: str, sync: bool, status: HistorySyncStatus) -> None:
    service = ConnectionService(InMemoryConnections(), InMemoryVault())
    request = NewConnection.model_validate({"phoneNumberId": "123", "wabaId": "456", "mode": mode, "syncHistory": sync})
    assert service.create("org", request).history.status is status


def test_connection_conflict_removes_the_stored_token_and_other_orgs_see_404() -> None:
    vault = InMemoryVault()
    service = ConnectionService(InMemoryConnections(), vault)
    body = {"phoneNumberId": "123", "wabaId": "456", "mode": ConnectionMode.COEXISTENCE, "accessToken": "t1"}
    first = service.create("org-a", NewConnection.model_validate(body))
    assert vault.read(str(first.access_token_secret_id)) == "t1"
    with pytest.raises(ConflictError):
        service.create("org-b", NewConnection.model_validate({**body, "accessToken": "t2"}))
    assert list(vault.secrets.values()) == ["t1"]
    with pytest.raises(NotFoundError):
        service.get("org-b", first.id)
    assert service.get("org-a", first.id) == first


def test_domain_package_has_no_sys_path_hacks() -> None:
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


def test_committed_openapi_document_matches_the_code() -> None:
    """docs/openapi.json is generated (`make openapi`); this fails when code and document drift."""
    from openapi_spec_validator import validate

    from scripts.export_openapi import TARGET, rendered

    current = rendered()
    assert TARGET.read_text(encoding="utf-8") == current, "run `make openapi` and commit docs/openapi.json"
    validate(json.loads(current))


def test_sync_alerts_no_history_and_stalled() -> None:
    from datetime import UTC, datetime, timedelta

    from whatrack.connections import Connection, ConnectionStatus, HistorySyncState, sync_alert

    created = datetime(2026, 11, 25, 12, tzinfo=UTC)
    stall = timedelta(minutes=30)

    def connection(status: HistorySyncStatus, last: datetime | None = None) -> Connection:
        return Connection(
            id="c",
            organization_id="o",
            phone_number_id="1",
            waba_id="2",
            display_phone_number=None,
            display_name=None,
            mode=ConnectionMode.COEXISTENCE,
            sync_history=True,
            connection_status=ConnectionStatus.ACTIVE,
            created_at=created,
            history=HistorySyncState(status=status, started_at=last, last_payload_at=last),
        )

    waiting = connection(HistorySyncStatus.PENDING_CONSENT)
    assert sync_alert(waiting, created + timedelta(minutes=29), stall) is None
    assert sync_alert(waiting, created + timedelta(hours=2), stall) == ("no_history_received", created + stall)
    syncing = connection(HistorySyncStatus.SYNCING, last=created + timedelta(hours=1))
    assert sync_alert(syncing, created + timedelta(hours=1, minutes=10), stall) is None
    assert sync_alert(syncing, created + timedelta(hours=3), stall) == ("stalled", created + timedelta(hours=1) + stall)
    assert sync_alert(connection(HistorySyncStatus.COMPLETED, last=created), created + timedelta(days=1), stall) is None
