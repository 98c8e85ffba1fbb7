"""Ports of the accounts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from whatrack.domain.connections import Connection, ConnectionStatus, HistorySyncStatus
from whatrack.domain.history import ChunkStatus
from whatrack.domain.onboarding import NumberState, PhoneNumber, SyncOutcome, SyncType
from whatrack.domain.organizations import Organization


class OrganizationRepository(Protocol):
    def create(self, organization: Organization, api_key_hash: str) -> None: ...

    def find_by_api_key_hash(self, api_key_hash: str) -> Organization | None: ...


class AdminCredentials(Protocol):
    def admin_api_key(self) -> str: ...


class TokenVault(Protocol):
    def store(self, connection_id: str, token: str) -> str:
        """Store a connection's access token; return its secret id."""

    def delete(self, secret_id: str) -> None: ...

    def read(self, secret_id: str) -> str: ...


class ConnectionRepository(Protocol):
    def create(self, connection: Connection) -> None:
        """Insert; :class:`ConflictError` when the phone number id is already connected."""

    def get(self, connection_id: str) -> Connection | None: ...

    def find_by_phone_number_id(self, phone_number_id: str) -> Connection | None:
        """The connection holding this number (active or disconnected)."""

    def list_for_organization(self, organization_id: str) -> list[Connection]:
        """Newest first."""

    def all_connections(self) -> list[Connection]:
        """Every connection of every organization (the watchdog's round)."""

    def set_status(self, connection_id: str, status: ConnectionStatus, at: datetime) -> bool:
        """Apply an event of time ``at`` unless a later one was applied; True when the status changed."""

    def reconnect(
        self, connection: Connection, at: datetime, *, access_token_secret_id: str | None, verified: bool
    ) -> bool:
        """Its organization connects a disconnected number again: ``active`` at ``at``, with its new
        token; False when it was not disconnected."""

    def mark_checked(self, connection_id: str, at: datetime) -> None:
        """Meta was asked for the number's state at ``at``."""


class InboxChanges(Protocol):
    """What tells the open screens that a number's inbox changed (``Connection.activity``)."""

    def changed(self, connection_id: str) -> None:
        """Something of this connection's inbox changed (after the change is stored)."""


class GraphApi(Protocol):
    """Meta's Graph API (every failure is an :class:`UpstreamError`)."""

    def exchange_code(self, code: str) -> str:
        """Embedded Signup's ``code`` → the business token."""

    def phone_numbers(self, waba_id: str, token: str) -> list[PhoneNumber]:
        """The WABA's numbers ``token`` can read."""

    def request_sync(self, phone_number_id: str, token: str, sync_type: SyncType) -> str:
        """``smb_app_data``: Meta's ``request_id``."""

    def number_state(self, phone_number_id: str, token: str) -> NumberState: ...

    def send_message(self, phone_number_id: str, token: str, payload: Mapping[str, Any]) -> str:
        """A send (Cloud API): Meta's wamid."""

    def message_templates(self, waba_id: str, token: str) -> list[dict[str, Any]]:
        """Every template of the WABA, as Meta lists them (every page)."""


class HistorySyncStore(Protocol):
    """A connection's history-sync state and counters: order-independent transitions (§8.5)."""

    def chunk_arrived(self, connection_id: str, phase: int, chunk_order: int, progress: int, at: datetime) -> bool:
        """Record arrival; True when this chunk started the sync (first chunk → ``syncing``)."""

    def complete(self, connection_id: str, at: datetime) -> bool:
        """``completed``; True on the transition."""

    def stop(self, connection_id: str, status: HistorySyncStatus, code: str, message: str, at: datetime) -> bool:
        """``declined`` or ``failed`` with its error; True on the transition."""

    def record_chunk(
        self,
        connection_id: str,
        phase: int,
        chunk_order: int,
        progress: int,
        *,
        threads: int,
        messages: int,
        status: ChunkStatus,
        at: datetime,
        log_id: str | None,
        error: str | None = None,
        content_hash: str | None = None,
    ) -> None:
        """The chunk's row in the gap view; a ``processed`` row with its ``content_hash`` says the import
        of that content completed (written last, so a crash before leaves the import to be finished)."""

    def chunk_imported(self, connection_id: str, phase: int, chunk_order: int, content_hash: str) -> bool:
        """True when the chunk's row is ``processed`` with this content hash (a consistent read): that
        content was imported completely, so a redelivery has nothing left to do."""

    def count_contact(self, connection_id: str, lead_id: str) -> bool:
        """``contactsImported`` +1 the first time this connection's contact sync adds this lead."""

    def begin_request(self, connection_id: str, sync_type: SyncType, at: datetime) -> bool:
        """Save the intent to ask Meta for ``sync_type``: True unless one was made that Meta did
        not refuse (accepted, pending or answer lost): Meta takes each sync type once."""

    def finish_request(
        self,
        connection_id: str,
        sync_type: SyncType,
        outcome: SyncOutcome,
        at: datetime,
        *,
        request_id: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """Record Meta's answer to the pending request."""

    def set_alert(self, connection_id: str, code: str | None, since: datetime | None, *, expected: str | None) -> bool:
        """Move the stall alert from ``expected`` to ``code``; True on that transition."""

    def resume(self, connection_id: str) -> bool:
        """A sync that failed on a chunk goes back to ``syncing`` (``completed`` if it had completed)."""
