"""Connections: a connected WhatsApp number (the dashboard's "InstanceCard")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from whatrack.errors import ConflictError, NotFoundError, TransientError
from whatrack.ids import new_id
from whatrack.timeutil import utcnow

if TYPE_CHECKING:
    from whatrack.ports import ConnectionRepository, TokenVault
    from whatrack.replay import UnmatchedReplayer

logger = Logger(child=True)


class ConnectionMode(StrEnum):
    COEXISTENCE = "coexistence"
    CLOUD_API = "cloud_api"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"


class HistorySyncStatus(StrEnum):
    NOT_SUPPORTED = "not_supported"
    NOT_REQUESTED = "not_requested"
    PENDING_CONSENT = "pending_consent"
    SYNCING = "syncing"
    COMPLETED = "completed"
    DECLINED = "declined"
    FAILED = "failed"


STATUS_LABELS: dict[HistorySyncStatus, str] = {
    HistorySyncStatus.NOT_SUPPORTED: "Não suportado",
    HistorySyncStatus.NOT_REQUESTED: "Não solicitado",
    HistorySyncStatus.PENDING_CONSENT: "Aguardando consentimento",
    HistorySyncStatus.SYNCING: "Sincronizando histórico",
    HistorySyncStatus.COMPLETED: "Concluído",
    HistorySyncStatus.DECLINED: "Recusado pelo negócio",
    HistorySyncStatus.FAILED: "Falhou (ver detalhes)",
}

BADGE_TOOLTIP = "Histórico depende de aprovação no WhatsApp Business App"


class HistorySyncState(BaseModel):
    """The history-sync state of one connection (kept on the connection item)."""

    model_config = ConfigDict(frozen=True)

    status: HistorySyncStatus
    phase: int | None = None
    chunk_order: int | None = None
    progress: int | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    last_payload_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    messages_imported: int = 0
    contacts_imported: int = 0
    threads_imported: int = 0
    media_pending: int = 0

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def duration_seconds(self) -> int | None:
        """From the first chunk to completion (or to the latest chunk while still syncing)."""
        if self.started_at is None:
            return None
        end = self.completed_at or self.last_payload_at
        if end is None:
            return None
        return max(0, int((end - self.started_at).total_seconds()))

    def badge_label(self) -> str:
        if self.status is HistorySyncStatus.DECLINED:
            return "Histórico: Recusado"
        if self.status is HistorySyncStatus.FAILED:
            return "Histórico: Falhou"
        if self.status in (HistorySyncStatus.NOT_SUPPORTED, HistorySyncStatus.NOT_REQUESTED):
            return f"Histórico: {self.label}"
        if self.status is HistorySyncStatus.COMPLETED:
            return "Histórico: 100%"
        return f"Histórico: {self.progress or 0}%"


def initial_history_status(mode: ConnectionMode, sync_history: bool) -> HistorySyncStatus:
    if mode is ConnectionMode.CLOUD_API:
        return HistorySyncStatus.NOT_SUPPORTED
    return HistorySyncStatus.PENDING_CONSENT if sync_history else HistorySyncStatus.NOT_REQUESTED


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    organization_id: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str | None
    display_name: str | None
    mode: ConnectionMode
    sync_history: bool
    connection_status: ConnectionStatus
    created_at: datetime
    access_token_secret_id: str | None = None
    history: HistorySyncState
    history_lead_tickets: int = 0
    """Tickets opened by history leads (``historyLeadsWithNewMessages``)."""
    history_inbound: int = 0
    history_outbound: int = 0
    media_placeholders: int = 0
    media_received: int = 0


@dataclass(frozen=True)
class ConnectionTarget:
    """What ingest needs to route a change to a connection."""

    connection_id: str
    organization_id: str


Digits = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{3,32}$")]


def digits_only(value: str | None) -> str | None:
    if value is None:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits or None


class NewConnection(BaseModel):
    """Validated input of ``POST /connections`` (camelCase on the wire)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", str_strip_whitespace=True)

    phone_number_id: Digits = Field(alias="phoneNumberId")
    waba_id: Digits = Field(alias="wabaId")
    display_phone_number: Annotated[str, StringConstraints(max_length=32, pattern=r"^\+?[\d\s().-]{3,32}$")] | None = (
        Field(default=None, alias="displayPhoneNumber")
    )
    mode: ConnectionMode
    sync_history: StrictBool = Field(default=False, alias="syncHistory")
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, alias="displayName"
    )
    access_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = Field(
        default=None, alias="accessToken", repr=False
    )


MAX_ID_LENGTH = 128


def plausible_id(value: str) -> bool:
    """Ids we issue are short; anything longer cannot exist (and must not reach a storage key)."""
    return 0 < len(value) <= MAX_ID_LENGTH


class ConnectionService:
    def __init__(
        self, repository: ConnectionRepository, vault: TokenVault, replayer: UnmatchedReplayer | None = None
    ) -> None:
        self._repository = repository
        self._vault = vault
        self._replayer = replayer

    def create(self, organization_id: str, request: NewConnection) -> Connection:
        connection_id = new_id()
        secret_id = self._vault.store(connection_id, request.access_token) if request.access_token else None
        connection = Connection(
            id=connection_id,
            organization_id=organization_id,
            phone_number_id=request.phone_number_id,
            waba_id=request.waba_id,
            display_phone_number=digits_only(request.display_phone_number),
            display_name=request.display_name,
            mode=request.mode,
            sync_history=request.sync_history,
            connection_status=ConnectionStatus.ACTIVE,
            created_at=utcnow(),
            access_token_secret_id=secret_id,
            history=HistorySyncState(status=initial_history_status(request.mode, request.sync_history)),
        )
        try:
            self._repository.create(connection)
        except ConflictError:
            if secret_id is not None:
                self._vault.delete(secret_id)
            raise
        if self._replayer is not None:
            try:
                self._replayer.replay(connection)
            except TransientError:
                # the connection exists; its kept changes stay "unmatched" and are replayed by the retry endpoint
                logger.exception("replaying unmatched changes failed", extra={"connection_id": connection.id})
        return connection

    def get(self, organization_id: str, connection_id: str) -> Connection:
        """A connection of this organization; another organization's is answered as missing."""
        connection = self._repository.get(connection_id) if plausible_id(connection_id) else None
        if connection is None or connection.organization_id != organization_id:
            raise NotFoundError(f"connection {connection_id} not found")
        return connection

    def list(self, organization_id: str) -> list[Connection]:
        """Newest first."""
        return self._repository.list_for_organization(organization_id)


def sync_alert(connection: Connection, now: datetime, stall_after: timedelta) -> tuple[str, datetime] | None:
    """``no_history_received`` when waiting for consent/history longer than ``stall_after``;
    ``stalled`` when syncing with no new chunk for that long (``since`` = when it became so)."""
    state = connection.history
    if state.status is HistorySyncStatus.PENDING_CONSENT and now - connection.created_at > stall_after:
        return "no_history_received", connection.created_at + stall_after
    if state.status is HistorySyncStatus.SYNCING:
        last = state.last_payload_at or state.started_at or connection.created_at
        if now - last > stall_after:
            return "stalled", last + stall_after
    return None
