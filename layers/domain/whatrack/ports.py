"""Ports: what the services need from the outside world, as Protocols.

Adapters in :mod:`whatrack.adapters` implement them for AWS; tests use in-memory fakes.
Every adapter raises :class:`whatrack.errors.TransientError` when its backend is unavailable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from whatrack.connections import Connection, ConnectionTarget
from whatrack.organizations import Organization
from whatrack.queue_messages import ChangeMessage
from whatrack.webhook_log import WebhookLogEntry


class ArchiveStore(Protocol):
    def put_raw(self, raw: bytes, *, received_at: datetime) -> str:
        """Store ``raw`` under a content-addressed key and return the key (idempotent)."""

    def get_raw(self, key: str) -> bytes:
        """Read an archived body back."""


class ChangePublisher(Protocol):
    def publish(self, messages: Sequence[ChangeMessage]) -> None:
        """Send each message to its field's queue; raise if any could not be sent."""


class WebhookLog(Protocol):
    def record(self, entries: Sequence[WebhookLogEntry]) -> None:
        """Write entries; an entry never moves back to an earlier status."""


class WebhookSecrets(Protocol):
    def app_secret(self) -> str: ...

    def verify_token(self) -> str: ...


class ConnectionDirectory(Protocol):
    def targets_for_phone_number_id(self, phone_number_id: str) -> list[ConnectionTarget]: ...

    def targets_for_waba(self, waba_id: str, display_phone_number: str | None) -> list[ConnectionTarget]: ...


class ConnectionRepository(Protocol):
    def create(self, connection: Connection) -> None:
        """Insert; :class:`ConflictError` when the phone number id is already connected."""

    def get(self, connection_id: str) -> Connection | None: ...

    def list_for_organization(self, organization_id: str) -> list[Connection]: ...


class OrganizationRepository(Protocol):
    def create(self, organization: Organization, api_key_hash: str) -> None: ...

    def find_by_api_key_hash(self, api_key_hash: str) -> Organization | None: ...


class TokenVault(Protocol):
    def store(self, connection_id: str, token: str) -> str:
        """Store a connection's access token; return its secret id."""

    def delete(self, secret_id: str) -> None: ...

    def read(self, secret_id: str) -> str: ...


class AdminCredentials(Protocol):
    def admin_api_key(self) -> str: ...
