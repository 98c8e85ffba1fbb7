"""Connections (AccountsTable), with the phone-number guard and WABA links they own (:mod:`.directory`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo.directory import PhoneNumberGuardItem, WabaLinkItem
from whatrack.adapters.dynamo.tables import (
    AccountsTableItem,
    Gsi1,
    Gsi2,
    connection_key,
    phone_number_guard_key,
    waba_link_key,
)
from whatrack.adapters.dynamo.writes import get_or_none, storage, transact, update_if
from whatrack.domain.clock import iso
from whatrack.domain.connections import (
    Connection,
    ConnectionMode,
    ConnectionStatus,
    HistorySyncState,
    HistorySyncStatus,
)
from whatrack.domain.counting import Count, files_counter
from whatrack.domain.errors import ConflictError
from whatrack.domain.media import COUNTED
from whatrack.domain.onboarding import SyncOutcome, SyncRequest, SyncType

SYNC_REQUEST_PREFIX = {SyncType.CONTACTS: "sr_contacts", SyncType.HISTORY: "sr_history"}


ALL_CONNECTIONS = "CONNECTIONS"
"""``gsi2pk`` of every connection item: the watchdog's round (connections are few; chunks are not)."""


class ConnectionItem(AccountsTableItem):
    by_organization = Gsi1()
    everyone = Gsi2()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    id = UnicodeAttribute()
    organization_id = UnicodeAttribute()
    phone_number_id = UnicodeAttribute()
    waba_id = UnicodeAttribute()
    display_phone_number = UnicodeAttribute(null=True)
    display_name = UnicodeAttribute(null=True)
    mode = UnicodeAttribute()
    sync_history = BooleanAttribute()
    connection_status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    access_token_secret_id = UnicodeAttribute(null=True)
    verified = BooleanAttribute(default=False)
    status_changed_at = UTCDateTimeAttribute(null=True)
    last_checked_at = UTCDateTimeAttribute(null=True)
    alert_code = UnicodeAttribute(null=True)
    alert_since = UTCDateTimeAttribute(null=True)
    # one smb_app_data request per sync type (see history_sync.SYNC_REQUEST_ATTRIBUTES)
    sr_contacts_outcome = UnicodeAttribute(null=True)
    sr_contacts_request_id = UnicodeAttribute(null=True)
    sr_contacts_requested_at = UTCDateTimeAttribute(null=True)
    sr_contacts_answered_at = UTCDateTimeAttribute(null=True)
    sr_contacts_error_code = UnicodeAttribute(null=True)
    sr_contacts_error_message = UnicodeAttribute(null=True)
    sr_history_outcome = UnicodeAttribute(null=True)
    sr_history_request_id = UnicodeAttribute(null=True)
    sr_history_requested_at = UTCDateTimeAttribute(null=True)
    sr_history_answered_at = UTCDateTimeAttribute(null=True)
    sr_history_error_code = UnicodeAttribute(null=True)
    sr_history_error_message = UnicodeAttribute(null=True)
    # history-sync state (updated atomically by the history consumer)
    hs_status = UnicodeAttribute()
    hs_phase = NumberAttribute(null=True)
    hs_chunk_order = NumberAttribute(null=True)
    hs_progress = NumberAttribute(null=True)
    hs_started_at = UTCDateTimeAttribute(null=True)
    hs_completed_at = UTCDateTimeAttribute(null=True)
    hs_last_payload_at = UTCDateTimeAttribute(null=True)
    hs_error_code = UnicodeAttribute(null=True)
    hs_error_message = UnicodeAttribute(null=True)
    hs_chunks = UnicodeSetAttribute(null=True)  # "<phase>#<chunk order>" of every chunk arrived: the card's gaps
    messages_imported = NumberAttribute(default=0)
    contacts_imported = NumberAttribute(default=0)
    threads_imported = NumberAttribute(default=0)
    media_pending = NumberAttribute(default=0)
    history_lead_tickets = NumberAttribute(default=0)
    activity = NumberAttribute(null=True)  # +1 for every change of the inbox (DynamoInboxChanges)
    # completion report
    history_inbound = NumberAttribute(default=0)
    history_outbound = NumberAttribute(default=0)
    media_placeholders = NumberAttribute(default=0)
    media_received = NumberAttribute(default=0)
    # media files by state (domain.counting.files_counter): the card's ``media``, and the placeholders waiting
    files_pending = NumberAttribute(null=True)
    files_stored = NumberAttribute(null=True)
    files_failed = NumberAttribute(null=True)
    files_expired = NumberAttribute(null=True)
    files_unavailable = NumberAttribute(null=True)
    files_too_large = NumberAttribute(null=True)
    files_placeholder = NumberAttribute(null=True)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _history_state(item: ConnectionItem) -> HistorySyncState:
    return HistorySyncState(
        status=HistorySyncStatus(item.hs_status),
        phase=_int(item.hs_phase),
        chunk_order=_int(item.hs_chunk_order),
        progress=_int(item.hs_progress),
        started_at=item.hs_started_at,
        completed_at=item.hs_completed_at,
        last_payload_at=item.hs_last_payload_at,
        error_code=item.hs_error_code,
        error_message=item.hs_error_message,
        messages_imported=int(item.messages_imported or 0),
        contacts_imported=int(item.contacts_imported or 0),
        threads_imported=int(item.threads_imported or 0),
        media_pending=int(item.media_pending or 0),
        chunks_seen=frozenset(chunk_of(seen) for seen in item.hs_chunks or ()),
    )


def seen_chunk(phase: int, chunk_order: int) -> str:
    """A chunk in ``hs_chunks``."""
    return f"{phase}#{chunk_order}"


def chunk_of(seen: str) -> tuple[int, int]:
    phase, _, order = seen.partition("#")
    return int(phase), int(order)


def _sync_requests(item: ConnectionItem) -> tuple[SyncRequest, ...]:
    found = []
    for sync_type, prefix in SYNC_REQUEST_PREFIX.items():
        outcome = getattr(item, f"{prefix}_outcome")
        requested_at = getattr(item, f"{prefix}_requested_at")
        if outcome is None or requested_at is None:
            continue
        found.append(
            SyncRequest(
                sync_type=sync_type,
                outcome=SyncOutcome(outcome),
                requested_at=requested_at,
                request_id=getattr(item, f"{prefix}_request_id"),
                answered_at=getattr(item, f"{prefix}_answered_at"),
                error_code=getattr(item, f"{prefix}_error_code"),
                error_message=getattr(item, f"{prefix}_error_message"),
            )
        )
    return tuple(found)


def _to_connection(item: ConnectionItem) -> Connection:
    return Connection(
        id=item.id,
        organization_id=item.organization_id,
        phone_number_id=item.phone_number_id,
        waba_id=item.waba_id,
        display_phone_number=item.display_phone_number,
        display_name=item.display_name,
        mode=ConnectionMode(item.mode),
        sync_history=item.sync_history,
        connection_status=ConnectionStatus(item.connection_status),
        created_at=item.created_at,
        access_token_secret_id=item.access_token_secret_id,
        verified=bool(item.verified),
        status_changed_at=item.status_changed_at,
        last_checked_at=item.last_checked_at,
        alert_code=item.alert_code,
        alert_since=item.alert_since,
        sync_requests=_sync_requests(item),
        history=_history_state(item),
        history_lead_tickets=int(item.history_lead_tickets or 0),
        activity=int(item.activity or 0),
        history_inbound=int(item.history_inbound or 0),
        history_outbound=int(item.history_outbound or 0),
        media_placeholders=int(item.media_placeholders or 0),
        media_received=int(item.media_received or 0),
        media_files={state.value: int(getattr(item, files_counter(state)) or 0) for state in COUNTED},
    )


def _by_organization_key(organization_id: str, created_at: datetime, connection_id: str) -> tuple[str, str]:
    return f"ORG#{organization_id}#CONN", f"{iso(created_at)}#{connection_id}"


class DynamoConnectionRepository:
    def create(self, connection: Connection) -> None:
        """Insert connection, phone-number guard and WABA link in one transaction.

        The guard's ``attribute_not_exists`` condition is what makes a ``phone_number_id``
        connect at most once, across organizations and concurrent requests.
        """
        gsi1pk, gsi1sk = _by_organization_key(connection.organization_id, connection.created_at, connection.id)
        item = ConnectionItem(
            *connection_key(connection.id),
            gsi1pk=gsi1pk,
            gsi1sk=gsi1sk,
            id=connection.id,
            organization_id=connection.organization_id,
            phone_number_id=connection.phone_number_id,
            waba_id=connection.waba_id,
            display_phone_number=connection.display_phone_number,
            display_name=connection.display_name,
            mode=connection.mode.value,
            sync_history=connection.sync_history,
            connection_status=connection.connection_status.value,
            created_at=connection.created_at,
            access_token_secret_id=connection.access_token_secret_id,
            verified=connection.verified,
            status_changed_at=connection.status_changed_at,
            gsi2pk=ALL_CONNECTIONS,
            gsi2sk=gsi1sk,
            hs_status=connection.history.status.value,
        )
        guard = PhoneNumberGuardItem(
            *phone_number_guard_key(connection.phone_number_id),
            connection_id=connection.id,
            organization_id=connection.organization_id,
        )
        link = WabaLinkItem(
            *waba_link_key(connection.waba_id, connection.id),
            connection_id=connection.id,
            organization_id=connection.organization_id,
            display_phone_number=connection.display_phone_number,
            verified=connection.verified,
        )

        def write(tx: TransactWrite) -> None:
            tx.save(guard, condition=PhoneNumberGuardItem.pk.does_not_exist())
            tx.save(item, condition=ConnectionItem.pk.does_not_exist())
            tx.save(link)

        if not transact("connection create", write):
            raise ConflictError(
                f"phone number id {connection.phone_number_id} is already connected",
                code="phone_number_already_connected",
            )

    def get(self, connection_id: str) -> Connection | None:
        item = get_or_none(ConnectionItem, connection_key(connection_id), consistent_read=True)
        return None if item is None else _to_connection(item)

    def find_by_phone_number_id(self, phone_number_id: str) -> Connection | None:
        guard = get_or_none(PhoneNumberGuardItem, phone_number_guard_key(phone_number_id), consistent_read=True)
        return None if guard is None else self.get(guard.connection_id)

    def list_for_organization(self, organization_id: str) -> list[Connection]:
        """Newest first."""
        with storage("connection list"):
            items = ConnectionItem.by_organization.query(f"ORG#{organization_id}#CONN", scan_index_forward=False)
            return [_to_connection(i) for i in items]

    def all_connections(self) -> list[Connection]:
        with storage("connection round"):
            return [_to_connection(i) for i in ConnectionItem.everyone.query(ALL_CONNECTIONS)]

    def set_status(self, connection_id: str, status: ConnectionStatus, at: datetime) -> bool:
        """Events apply by their time: one older than the last applied is ignored (a tie: arrival order)."""
        return update_if(
            ConnectionItem(*connection_key(connection_id)),
            [ConnectionItem.connection_status.set(status.value), ConnectionItem.status_changed_at.set(at)],
            ConnectionItem.pk.exists()
            & (ConnectionItem.status_changed_at.does_not_exist() | (ConnectionItem.status_changed_at <= at)),
            "connection status",
        )

    def reconnect(
        self, connection: Connection, at: datetime, *, access_token_secret_id: str | None, verified: bool
    ) -> bool:
        actions: list[Any] = [
            ConnectionItem.connection_status.set(ConnectionStatus.ACTIVE.value),
            ConnectionItem.status_changed_at.set(at),
            ConnectionItem.verified.set(verified),
        ]
        if access_token_secret_id is not None:
            actions.append(ConnectionItem.access_token_secret_id.set(access_token_secret_id))

        def write(tx: TransactWrite) -> None:
            tx.update(
                ConnectionItem(*connection_key(connection.id)),
                actions=actions,
                condition=ConnectionItem.connection_status == ConnectionStatus.DISCONNECTED.value,
            )
            tx.update(
                WabaLinkItem(*waba_link_key(connection.waba_id, connection.id)),
                actions=[WabaLinkItem.verified.set(verified)],
            )

        return transact("connection reconnect", write)

    def mark_checked(self, connection_id: str, at: datetime) -> None:
        update_if(
            ConnectionItem(*connection_key(connection_id)),
            [ConnectionItem.last_checked_at.set(at)],
            ConnectionItem.pk.exists(),
            "connection check",
        )


class DynamoInboxChanges:
    """``activity`` +1 on the connection item: one UpdateItem per change (never a partial item)."""

    def changed(self, connection_id: str) -> None:
        update_if(
            ConnectionItem(*connection_key(connection_id)),
            [ConnectionItem.activity.add(1)],
            ConnectionItem.pk.exists(),
            "inbox activity",
        )


def count_actions(counts: Iterable[Count]) -> list[Any]:
    """The ``ADD`` actions that move the connection's counters as the domain's counting rules say."""
    return [getattr(ConnectionItem, count.counter).add(count.amount) for count in counts]
