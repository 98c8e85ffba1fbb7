"""In-memory implementations of the ports, for unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from whatrack.domain.changes import ChangeMessage
from whatrack.domain.connections import Connection, ConnectionTarget, digits_only
from whatrack.domain.errors import ConflictError, TransientError
from whatrack.domain.log import WebhookLogEntry
from whatrack.domain.organizations import Organization


class InMemoryArchive:
    def __init__(self, *, fail: bool = False) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts = 0
        self.fail = fail

    def put_raw(self, raw: bytes, *, received_at: datetime) -> str:
        if self.fail:
            raise TransientError("archive put failed (ServiceUnavailable)")
        self.puts += 1
        key = "webhooks/sha256/" + hashlib.sha256(raw).hexdigest()
        self.objects.setdefault(key, raw)
        return key

    def get_raw(self, key: str) -> bytes:
        return self.objects[key]


class RecordingPublisher:
    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[ChangeMessage] = []
        self.fail = fail

    def publish(self, messages: Sequence[ChangeMessage]) -> None:
        if self.fail and messages:
            raise TransientError("queue send failed (ServiceUnavailable)")
        self.sent.extend(messages)


class InMemoryWebhookLog:
    def __init__(self) -> None:
        self.entries: dict[str, WebhookLogEntry] = {}

    def record(self, entries: Sequence[WebhookLogEntry]) -> None:
        for entry in entries:
            current = self.entries.get(entry.id)
            if current is None or current.rank <= entry.rank:
                self.entries[entry.id] = entry


class StaticSecrets:
    def __init__(self, app_secret: str = "test-secret", verify_token: str = "test-token") -> None:
        self._app_secret = app_secret
        self._verify_token = verify_token

    def app_secret(self) -> str:
        return self._app_secret

    def verify_token(self) -> str:
        return self._verify_token

    def admin_api_key(self) -> str:
        return "admin-key"


class InMemoryDirectory:
    def __init__(self) -> None:
        self.by_phone: dict[str, ConnectionTarget] = {}
        self.by_waba: dict[str, list[tuple[str | None, ConnectionTarget]]] = {}

    def add(self, phone_number_id: str, waba_id: str, display: str | None, target: ConnectionTarget) -> None:
        self.by_phone[phone_number_id] = target
        self.by_waba.setdefault(waba_id, []).append((display, target))

    def targets_for_phone_number_id(self, phone_number_id: str) -> list[ConnectionTarget]:
        target = self.by_phone.get(phone_number_id)
        return [target] if target else []

    def targets_for_waba(self, waba_id: str, display_phone_number: str | None) -> list[ConnectionTarget]:
        links = self.by_waba.get(waba_id, [])
        if display_phone_number is not None:
            links = [link for link in links if digits_only(link[0]) == digits_only(display_phone_number)]
        return [target for _, target in links]


class InMemoryConnections:
    def __init__(self) -> None:
        self.items: dict[str, Connection] = {}

    def create(self, connection: Connection) -> None:
        if any(c.phone_number_id == connection.phone_number_id for c in self.items.values()):
            raise ConflictError("already connected", code="phone_number_already_connected")
        self.items[connection.id] = connection

    def get(self, connection_id: str) -> Connection | None:
        return self.items.get(connection_id)

    def list_for_organization(self, organization_id: str) -> list[Connection]:
        found = [c for c in self.items.values() if c.organization_id == organization_id]
        return sorted(found, key=lambda c: (c.created_at, c.id), reverse=True)


class InMemoryOrganizations:
    def __init__(self) -> None:
        self.by_hash: dict[str, Organization] = {}

    def create(self, organization: Organization, api_key_hash: str) -> None:
        self.by_hash[api_key_hash] = organization

    def find_by_api_key_hash(self, api_key_hash: str) -> Organization | None:
        return self.by_hash.get(api_key_hash)


class InMemoryVault:
    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}

    def store(self, connection_id: str, token: str) -> str:
        secret_id = f"arn:secret:{connection_id}"
        self.secrets[secret_id] = token
        return secret_id

    def delete(self, secret_id: str) -> None:
        self.secrets.pop(secret_id, None)

    def read(self, secret_id: str) -> str:
        return self.secrets[secret_id]
