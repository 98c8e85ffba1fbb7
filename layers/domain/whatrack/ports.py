"""Ports: what the services need from the outside world, as Protocols.

Adapters in :mod:`whatrack.adapters` implement them for AWS; tests use in-memory fakes.
Every adapter raises :class:`whatrack.errors.TransientError` when its backend is unavailable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from whatrack.connections import Connection, ConnectionStatus, ConnectionTarget, HistorySyncStatus
from whatrack.identity import ContactIdentity
from whatrack.inbox import HistoryImportResult, Lead, LeadSource, NewMessage, ResolvedLead, ThreadImport, TicketOrigin
from whatrack.organizations import Organization
from whatrack.queue_messages import ChangeMessage
from whatrack.webhook_log import LogStatus, WebhookLogEntry


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


class WebhookLogStatus(Protocol):
    def set_status(self, log_id: str, status: LogStatus, at: datetime, error: str | None = None) -> bool:
        """A consumer's outcome for an existing entry (never moves it back)."""


class UnmatchedLog(Protocol):
    def unmatched(self, phone_number_id: str) -> list[WebhookLogEntry]: ...

    def attach(self, log_id: str, target: ConnectionTarget) -> bool: ...


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


class InboxStore(Protocol):
    """Leads, conversations, messages, tickets and audit entries; every write conditional."""

    def resolve_lead(
        self, organization_id: str, identity: ContactIdentity, source: LeadSource, now: datetime
    ) -> ResolvedLead: ...

    def find_lead(self, organization_id: str, identity: ContactIdentity) -> Lead | None: ...

    def update_lead(
        self,
        lead_id: str,
        *,
        has_history: bool = False,
        message_at: datetime | None = None,
        push_name: str | None = None,
        overwrite_name: bool = False,
        synced_at: datetime | None = None,
        active: bool | None = None,
    ) -> None: ...

    def ensure_conversation(
        self, organization_id: str, lead_id: str, connection_id: str, now: datetime, last_message_at: datetime | None
    ) -> str: ...

    def import_history(
        self, organization_id: str, connection_id: str, threads: Sequence[ThreadImport]
    ) -> HistoryImportResult: ...

    def insert_message(
        self,
        organization_id: str,
        connection_id: str,
        conversation_id: str,
        message: NewMessage,
        *,
        history: bool = False,
    ) -> bool: ...

    def count_contact(self, connection_id: str, lead_id: str) -> bool: ...

    def fill_media(
        self, connection_id: str, wamid: str, media_type: str, media: dict[str, Any], body: str | None
    ) -> bool: ...

    def restore_revoked(self, connection_id: str, message: NewMessage) -> bool: ...

    def confirm_echo(self, connection_id: str, wamid: str, confirmed_at: datetime) -> None: ...

    def mark_deleted(self, connection_id: str, wamid: str) -> bool: ...

    def apply_status(
        self, connection_id: str, wamid: str, status: str, error: str | None, *, must_exist: bool = True
    ) -> bool: ...

    def open_ticket(
        self,
        *,
        lead: ResolvedLead,
        connection_id: str,
        conversation_id: str,
        wamid: str,
        origin: TicketOrigin,
        window: datetime | None,
        message_at: datetime,
    ) -> str | None: ...

    def open_ticket_id(self, conversation_id: str) -> str | None: ...

    def touch_ticket(self, ticket_id: str, message_at: datetime, window: datetime) -> None: ...

    def close_ticket(self, ticket_id: str, conversation_id: str) -> None: ...

    def audit(
        self,
        connection_id: str,
        event: str,
        at: datetime,
        *,
        key: str,
        status: str | None = None,
        error: str | None = None,
    ) -> None: ...


class HistorySyncStore(Protocol):
    def chunk_arrived(self, connection_id: str, phase: int, chunk_order: int, progress: int, at: datetime) -> bool: ...

    def complete(self, connection_id: str, at: datetime) -> bool: ...

    def stop(self, connection_id: str, status: HistorySyncStatus, code: str, message: str, at: datetime) -> bool: ...

    def record_chunk(
        self,
        connection_id: str,
        phase: int,
        chunk_order: int,
        progress: int,
        *,
        threads: int,
        messages: int,
        status: str,
        at: datetime,
        log_id: str | None,
        error: str | None = None,
    ) -> None: ...

    def set_connection_status(self, connection_id: str, status: ConnectionStatus) -> bool: ...
