"""Accounts in memory: organizations, access tokens, connections and their history-sync state."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tests.fakes.database import ChunkRow, ConnectionRow, InMemoryDatabase, WabaLink, sort_key, utc
from whatrack.domain.connections import PRE_SYNC_STATUSES, Connection, ConnectionStatus, HistorySyncStatus, kept_by_stop
from whatrack.domain.errors import ConflictError, TransientError
from whatrack.domain.history import CHUNK_FAILED_CODE, ChunkStatus
from whatrack.domain.onboarding import SyncOutcome, SyncRequest, SyncType
from whatrack.domain.organizations import Organization
from whatrack.domain.routing import ConnectionTarget


class InMemoryOrganizations:
    """:class:`whatrack.ports.OrganizationRepository`: the organization and its key index, both new."""

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    @property
    def by_hash(self) -> dict[str, Organization]:
        """Organizations by the hash of their API key (the only form a key is stored in)."""
        with self._db.lock:
            return {key: self._db.organizations[org_id][0] for key, org_id in self._db.api_keys.items()}

    def create(self, organization: Organization, api_key_hash: str) -> None:
        with self._db.lock:
            if organization.id in self._db.organizations or api_key_hash in self._db.api_keys:
                raise TransientError("organization create collided with an existing id or key; retry")
            self._db.organizations[organization.id] = (organization, api_key_hash)
            self._db.api_keys[api_key_hash] = organization.id

    def find_by_api_key_hash(self, api_key_hash: str) -> Organization | None:
        with self._db.lock:
            org_id = self._db.api_keys.get(api_key_hash)
            found = self._db.organizations.get(org_id) if org_id else None
            return None if found is None else found[0]


class InMemoryVault:
    """:class:`whatrack.ports.TokenVault`: one secret per connection (Secrets Manager's answers)."""

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    @property
    def secrets(self) -> dict[str, str]:
        return self._db.secrets

    def store(self, connection_id: str, token: str) -> str:
        """Create the secret, or give it a new value (a number connected again)."""
        secret_id = f"arn:secret:{connection_id}"
        with self._db.lock:
            self._db.secrets[secret_id] = token
        return secret_id

    def delete(self, secret_id: str) -> None:
        with self._db.lock:
            self._db.secrets.pop(secret_id, None)

    def read(self, secret_id: str) -> str:
        with self._db.lock:
            token = self._db.secrets.get(secret_id)
        if token is None:
            raise TransientError("secret read failed (ResourceNotFoundException)")
        return token


class InMemoryConnections:
    """:class:`whatrack.ports.ConnectionRepository` with ``DynamoConnectionRepository``'s conditions.

    ``create`` keeps what the connection item keeps: the history status only (state and counters
    start empty, whatever the model carried); it also writes the phone-number guard and WABA link
    that :class:`tests.fakes.webhooks.InMemoryDirectory` reads.
    """

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def create(self, connection: Connection) -> None:
        with self._db.lock:
            db = self._db
            if connection.phone_number_id in db.phone_number_guards or connection.id in db.connections:
                raise ConflictError(
                    f"phone number id {connection.phone_number_id} is already connected",
                    code="phone_number_already_connected",
                )
            db.connections[connection.id] = ConnectionRow(
                connection=connection.model_copy(update={"created_at": utc(connection.created_at)}),
                connection_status=connection.connection_status,
                hs_status=connection.history.status,
                status_changed_at=connection.status_changed_at,
                verified=connection.verified,
                access_token_secret_id=connection.access_token_secret_id,
            )
            target = ConnectionTarget(connection.id, connection.organization_id)
            db.phone_number_guards[connection.phone_number_id] = target
            db.waba_links.setdefault(connection.waba_id, {})[connection.id] = WabaLink(
                target, connection.display_phone_number, connection.verified
            )

    def get(self, connection_id: str) -> Connection | None:
        with self._db.lock:
            row = self._db.connections.get(connection_id)
            return None if row is None else row.snapshot()

    def list_for_organization(self, organization_id: str) -> list[Connection]:
        """Newest first (by creation time, then id)."""
        with self._db.lock:
            found = [
                (sort_key(c.created_at, c.id), c)
                for row in self._db.connections.values()
                if (c := row.snapshot()) is not None and c.organization_id == organization_id
            ]
        return [c for _, c in sorted(found, key=lambda pair: pair[0], reverse=True)]

    def find_by_phone_number_id(self, phone_number_id: str) -> Connection | None:
        with self._db.lock:
            target = self._db.phone_number_guards.get(phone_number_id)
        return None if target is None else self.get(target.connection_id)

    def all_connections(self) -> list[Connection]:
        with self._db.lock:
            rows = list(self._db.connections.values())
        return [c for row in rows if (c := row.snapshot()) is not None]

    def set_status(self, connection_id: str, status: ConnectionStatus, at: datetime) -> bool:
        """Applied unless a later event was (``status_changed_at``); a tie goes to the later arrival."""
        with self._db.lock:
            row = self._db.connections.get(connection_id)
            if row is None or (row.status_changed_at is not None and row.status_changed_at > utc(at)):
                return False
            row.connection_status = status
            row.status_changed_at = utc(at)
            return True

    def reconnect(
        self, connection: Connection, at: datetime, *, access_token_secret_id: str | None, verified: bool
    ) -> bool:
        with self._db.lock:
            row = self._db.connections.get(connection.id)
            if row is None or row.connection_status is not ConnectionStatus.DISCONNECTED:
                return False
            row.connection_status = ConnectionStatus.ACTIVE
            row.status_changed_at = utc(at)
            row.verified = verified
            if access_token_secret_id is not None:
                row.access_token_secret_id = access_token_secret_id
            link = self._db.waba_links.get(connection.waba_id, {}).get(connection.id)
            if link is not None:
                link.verified = verified
            return True

    def mark_checked(self, connection_id: str, at: datetime) -> None:
        with self._db.lock:
            row = self._db.connections.get(connection_id)
            if row is not None:
                row.last_checked_at = utc(at)


class InMemoryInboxChanges:
    """:class:`whatrack.ports.accounts.InboxChanges` on the connection row's counters."""

    def __init__(self, db: InMemoryDatabase) -> None:
        self._db = db

    def changed(self, connection_id: str) -> None:
        with self._db.lock:
            row = self._db.connections.get(connection_id)
            if row is not None:
                row.counters["activity"] += 1


class InMemoryHistorySync:
    """:class:`whatrack.ports.HistorySyncStore`: ``DynamoHistorySync``'s order-independent transitions."""

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def chunk_arrived(self, connection_id: str, phase: int, chunk_order: int, progress: int, at: datetime) -> bool:
        with self._db.lock:
            row = self._db.connection_row(connection_id)
            row.hs_last_payload_at = utc(at)
            row.hs_started_at = row.hs_started_at or utc(at)
            row.hs_chunks.add((phase, chunk_order))
            if row.hs_progress is None or row.hs_progress < progress:
                row.hs_progress, row.hs_phase, row.hs_chunk_order = progress, phase, chunk_order
            if row.hs_status in PRE_SYNC_STATUSES:
                row.hs_status = HistorySyncStatus.SYNCING
                return True
            return False

    def complete(self, connection_id: str, at: datetime) -> bool:
        with self._db.lock:
            row = self._db.connection_row(connection_id)
            if row.hs_status is HistorySyncStatus.COMPLETED:
                return False
            row.hs_status = HistorySyncStatus.COMPLETED
            row.hs_completed_at = row.hs_completed_at or utc(at)
            return True

    def stop(self, connection_id: str, status: HistorySyncStatus, code: str, message: str, at: datetime) -> bool:
        with self._db.lock:
            row = self._db.connection_row(connection_id)
            if row.hs_status in kept_by_stop(status):
                return False
            row.hs_status = status
            row.hs_error_code, row.hs_error_message = code, message
            row.hs_last_payload_at = utc(at)
            return True

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
        chunk = ChunkRow(phase, chunk_order, progress, threads, messages, utc(at), status, log_id, error, content_hash)
        with self._db.lock:
            self._db.chunks.setdefault(connection_id, {})[chunk.sort_key] = chunk

    def chunk_imported(self, connection_id: str, phase: int, chunk_order: int, content_hash: str) -> bool:
        with self._db.lock:
            found = self._db.chunks.get(connection_id, {}).get(f"CHUNK#{phase:03d}#{chunk_order:06d}")
            return found is not None and found.status is ChunkStatus.PROCESSED and found.content_hash == content_hash

    def count_contact(self, connection_id: str, lead_id: str) -> bool:
        with self._db.lock:
            if not self._db.add_marker("CONTACT", connection_id, lead_id):
                return False
            self._db.connection_row(connection_id).counters["contacts_imported"] += 1
            return True

    # ------------------------------------------------------------------ smb_app_data requests
    def begin_request(self, connection_id: str, sync_type: SyncType, at: datetime) -> bool:
        with self._db.lock:
            row = self._db.connections.get(connection_id)
            if row is None:
                return False
            known = row.sync_requests.get(sync_type)
            if known is not None and known.outcome is not SyncOutcome.FAILED:
                return False
            row.sync_requests[sync_type] = SyncRequest(sync_type, SyncOutcome.PENDING, utc(at))
            return True

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
        with self._db.lock:
            row = self._db.connections.get(connection_id)
            known = row.sync_requests.get(sync_type) if row is not None else None
            if row is None or known is None or known.outcome is not SyncOutcome.PENDING:
                return
            row.sync_requests[sync_type] = replace(
                known,
                outcome=outcome,
                answered_at=utc(at),
                request_id=request_id,
                error_code=error_code,
                error_message=error_message,
            )

    # ------------------------------------------------------------------ watchdog and retry
    def set_alert(self, connection_id: str, code: str | None, since: datetime | None, *, expected: str | None) -> bool:
        with self._db.lock:
            row = self._db.connections.get(connection_id)
            if row is None or row.alert_code != expected:
                return False
            if code is not None and since is not None:
                row.alert_code, row.alert_since = code, utc(since)
            else:
                row.alert_code = row.alert_since = None
            return True

    def resume(self, connection_id: str) -> bool:
        with self._db.lock:
            row = self._db.connections.get(connection_id)
            if row is None or row.hs_status is not HistorySyncStatus.FAILED or row.hs_error_code != CHUNK_FAILED_CODE:
                return False
            row.hs_status = HistorySyncStatus.COMPLETED if row.hs_completed_at else HistorySyncStatus.SYNCING
            row.hs_error_code = row.hs_error_message = None
            return True
