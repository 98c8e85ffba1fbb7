"""DynamoDB repositories (PynamoDB). Repositories own every conditional write.

Tables (see ``docs/data-model.md``): ``AccountsTable`` (organizations, API-key index,
connections, phone-number guards, WABA links), ``InboxTable`` (leads, conversations, messages,
tickets) and ``LogTable`` (webhook and audit log). Physical names come from settings at runtime:
:func:`bind` points the item models at them, once per execution environment.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection as PynamoConnection
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from whatrack.config import TablesMixin
from whatrack.connections import (
    Connection,
    ConnectionMode,
    ConnectionStatus,
    ConnectionTarget,
    HistorySyncState,
    HistorySyncStatus,
    digits_only,
)
from whatrack.errors import ConflictError, TransientError
from whatrack.organizations import Organization
from whatrack.timeutil import iso, parse_iso
from whatrack.webhook_log import STATUS_RANK, LogStatus, WebhookLogEntry

CONDITIONAL_FAILED = "ConditionalCheckFailedException"


def _cause(exc: PynamoDBException) -> str | None:
    return exc.cause_response_code


@contextmanager
def storage(action: str) -> Iterator[None]:
    """Translate any unexpected PynamoDB failure into :class:`TransientError` (retryable)."""
    try:
        yield
    except PynamoDBException as exc:
        raise TransientError(f"{action} failed ({_cause(exc) or type(exc).__name__})") from exc


def get_or_none[M: Model](model: type[M], key: tuple[str, str], *, consistent_read: bool = False) -> M | None:
    try:
        return model.get(key[0], key[1], consistent_read=consistent_read)
    except DoesNotExist:
        return None


# --------------------------------------------------------------------------- item models
class _AccountsTableItem(Model):
    class Meta:
        table_name = "unbound-accounts"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class OrganizationItem(_AccountsTableItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    api_key_hash = UnicodeAttribute()


class ApiKeyItem(_AccountsTableItem):
    organization_id = UnicodeAttribute()


class _ConnectionsByOrganization(GlobalSecondaryIndex["ConnectionItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ConnectionItem(_AccountsTableItem):
    by_organization = _ConnectionsByOrganization()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
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
    messages_imported = NumberAttribute(default=0)
    contacts_imported = NumberAttribute(default=0)
    threads_imported = NumberAttribute(default=0)
    media_pending = NumberAttribute(default=0)
    history_lead_tickets = NumberAttribute(default=0)
    # completion report
    history_inbound = NumberAttribute(default=0)
    history_outbound = NumberAttribute(default=0)
    media_placeholders = NumberAttribute(default=0)
    media_received = NumberAttribute(default=0)


class PhoneGuardItem(_AccountsTableItem):
    """One per connected ``phone_number_id``: enforces uniqueness and serves ingest's lookup."""

    connection_id = UnicodeAttribute()
    organization_id = UnicodeAttribute()


class WabaLinkItem(_AccountsTableItem):
    """``WABA#<waba id>`` / ``CONN#<id>``: matches ``account_update`` changes (keyed by WABA)."""

    connection_id = UnicodeAttribute()
    organization_id = UnicodeAttribute()
    display_phone_number = UnicodeAttribute(null=True)


class _LogTableItem(Model):
    class Meta:
        table_name = "unbound-log"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class _UnmatchedByNumber(GlobalSecondaryIndex["WebhookLogItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class WebhookLogItem(_LogTableItem):
    unmatched_by_number = _UnmatchedByNumber()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    id = UnicodeAttribute()
    at = UnicodeAttribute()
    last_at = UnicodeAttribute()
    status = UnicodeAttribute()
    rank = NumberAttribute()
    field = UnicodeAttribute(null=True)
    event = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    archive_key = UnicodeAttribute()
    entry_index = NumberAttribute()
    change_index = NumberAttribute()
    connection_id = UnicodeAttribute(null=True)
    organization_id = UnicodeAttribute(null=True)
    phone_number_id = UnicodeAttribute(null=True)
    waba_id = UnicodeAttribute(null=True)


class ChunkItem(_AccountsTableItem):
    """``CONN#<id>`` / ``CHUNK#<phase>#<chunk order>``: one per chunk, for the gap view."""

    phase = NumberAttribute()
    chunk_order = NumberAttribute()
    progress = NumberAttribute()
    threads = NumberAttribute(default=0)
    messages = NumberAttribute(default=0)
    received_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    error = UnicodeAttribute(null=True)
    log_id = UnicodeAttribute(null=True)


ACCOUNTS_MODELS: tuple[type[Model], ...] = (
    _AccountsTableItem,
    OrganizationItem,
    ApiKeyItem,
    ConnectionItem,
    PhoneGuardItem,
    WabaLinkItem,
    ChunkItem,
)
LOG_MODELS: tuple[type[Model], ...] = (_LogTableItem, WebhookLogItem)


@functools.cache
def _shared_client() -> Any:
    """One botocore DynamoDB client for every model and transaction (PynamoDB would build one per
    model class and per transaction: ~100 ms each on a cold start)."""
    return PynamoConnection().client


def transaction_connection() -> PynamoConnection:
    connection = PynamoConnection()
    connection._client = _shared_client()
    return connection


def bind_models(models: Iterable[type[Model]], table_name: str) -> None:
    """Point ``models`` at ``table_name`` and make them share the one client."""
    for model in models:
        model.Meta.table_name = table_name
        model._connection = None
        model._get_connection().connection._client = _shared_client()


def bind(settings: TablesMixin) -> None:
    """Point every item model at the physical tables of ``settings`` (fresh shared client)."""
    _shared_client.cache_clear()
    bind_models(ACCOUNTS_MODELS, settings.accounts_table_name)
    bind_models(LOG_MODELS, settings.log_table_name)


# --------------------------------------------------------------------------- keys
def org_key(organization_id: str) -> tuple[str, str]:
    return f"ORG#{organization_id}", "ORG"


def api_key_key(api_key_hash: str) -> tuple[str, str]:
    return f"APIKEY#{api_key_hash}", "APIKEY"


def connection_key(connection_id: str) -> tuple[str, str]:
    return f"CONN#{connection_id}", "CONN"


def phone_guard_key(phone_number_id: str) -> tuple[str, str]:
    return f"PNID#{phone_number_id}", "PNID"


def waba_link_key(waba_id: str, connection_id: str) -> tuple[str, str]:
    return f"WABA#{waba_id}", f"CONN#{connection_id}"


def log_key(log_id: str) -> tuple[str, str]:
    return f"LOG#{log_id}", "LOG"


# --------------------------------------------------------------------------- organizations
class DynamoOrganizationRepository:
    def create(self, organization: Organization, api_key_hash: str) -> None:
        org_pk, org_sk = org_key(organization.id)
        key_pk, key_sk = api_key_key(api_key_hash)
        org = OrganizationItem(
            org_pk,
            org_sk,
            id=organization.id,
            name=organization.name,
            created_at=organization.created_at,
            api_key_hash=api_key_hash,
        )
        key = ApiKeyItem(key_pk, key_sk, organization_id=organization.id)
        with storage("organization create"), TransactWrite(connection=transaction_connection()) as tx:
            tx.save(org, condition=OrganizationItem.pk.does_not_exist())
            tx.save(key, condition=ApiKeyItem.pk.does_not_exist())

    def find_by_api_key_hash(self, api_key_hash: str) -> Organization | None:
        with storage("api key lookup"):
            key = get_or_none(ApiKeyItem, api_key_key(api_key_hash))
            if key is None:
                return None
            org = get_or_none(OrganizationItem, org_key(key.organization_id))
        if org is None:
            return None
        return Organization(id=org.id, name=org.name, created_at=org.created_at)


# --------------------------------------------------------------------------- connections
def _history_state(item: ConnectionItem) -> HistorySyncState:
    def _int(value: float | None) -> int | None:
        return None if value is None else int(value)

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
    )


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
        history=_history_state(item),
        history_lead_tickets=int(item.history_lead_tickets or 0),
        history_inbound=int(item.history_inbound or 0),
        history_outbound=int(item.history_outbound or 0),
        media_placeholders=int(item.media_placeholders or 0),
        media_received=int(item.media_received or 0),
    )


def _connection_gsi1(organization_id: str, created_at: datetime, connection_id: str) -> tuple[str, str]:
    return f"ORG#{organization_id}#CONN", f"{iso(created_at)}#{connection_id}"


class DynamoConnectionRepository:
    def create(self, connection: Connection) -> None:
        """Insert connection, phone guard and WABA link in one transaction.

        The guard's ``attribute_not_exists`` condition is what makes a ``phone_number_id``
        connect at most once, across organizations and concurrent requests.
        """
        gsi1pk, gsi1sk = _connection_gsi1(connection.organization_id, connection.created_at, connection.id)
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
            hs_status=connection.history.status.value,
        )
        guard = PhoneGuardItem(
            *phone_guard_key(connection.phone_number_id),
            connection_id=connection.id,
            organization_id=connection.organization_id,
        )
        link = WabaLinkItem(
            *waba_link_key(connection.waba_id, connection.id),
            connection_id=connection.id,
            organization_id=connection.organization_id,
            display_phone_number=connection.display_phone_number,
        )
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(guard, condition=PhoneGuardItem.pk.does_not_exist())
                tx.save(item, condition=ConnectionItem.pk.does_not_exist())
                tx.save(link)
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConflictError(
                    f"phone number id {connection.phone_number_id} is already connected",
                    code="phone_number_already_connected",
                ) from exc
            raise TransientError(f"connection create failed ({_cause(exc) or reasons})") from exc

    def get(self, connection_id: str) -> Connection | None:
        with storage("connection get"):
            item = get_or_none(ConnectionItem, connection_key(connection_id), consistent_read=True)
        return None if item is None else _to_connection(item)

    def list_for_organization(self, organization_id: str) -> list[Connection]:
        with storage("connection list"):
            items = ConnectionItem.by_organization.query(f"ORG#{organization_id}#CONN", scan_index_forward=False)
            return [_to_connection(i) for i in items]


class DynamoConnectionDirectory:
    """Ingest's read side: which connection(s) does a change belong to."""

    def targets_for_phone_number_id(self, phone_number_id: str) -> list[ConnectionTarget]:
        with storage("connection lookup"):
            guard = get_or_none(PhoneGuardItem, phone_guard_key(phone_number_id))
        if guard is None:
            return []
        return [ConnectionTarget(guard.connection_id, guard.organization_id)]

    def targets_for_waba(self, waba_id: str, display_phone_number: str | None) -> list[ConnectionTarget]:
        with storage("connection lookup"):
            links = list(WabaLinkItem.query(f"WABA#{waba_id}", WabaLinkItem.sk.startswith("CONN#")))
        wanted = digits_only(display_phone_number)
        if wanted is not None:
            links = [link for link in links if digits_only(link.display_phone_number) == wanted] or [
                link for link in links if link.display_phone_number is None
            ]
        return [ConnectionTarget(link.connection_id, link.organization_id) for link in links]


# --------------------------------------------------------------------------- webhook log
def _log_gsi1pk(entry: WebhookLogEntry) -> str:
    if entry.connection_id is not None:
        return f"CONN#{entry.connection_id}"
    return f"NOCONN#{entry.at.date().isoformat()}"


class DynamoWebhookLog:
    MAX_PARALLEL_WRITES = 8

    def record(self, entries: Sequence[WebhookLogEntry]) -> None:
        """One conditional UpdateItem per entry; a body with many changes writes them in parallel."""
        if len(entries) <= 1:
            for entry in entries:
                self._record_one(entry)
            return
        with ThreadPoolExecutor(max_workers=min(self.MAX_PARALLEL_WRITES, len(entries))) as pool:
            for future in [pool.submit(self._record_one, entry) for entry in entries]:
                future.result()  # re-raises the first TransientError

    def _record_one(self, entry: WebhookLogEntry) -> None:
        at = iso(entry.at)
        assert at is not None
        item = WebhookLogItem(*log_key(entry.id))
        actions: list[Any] = [
            WebhookLogItem.kind.set("webhook"),
            WebhookLogItem.id.set(entry.id),
            WebhookLogItem.at.set(WebhookLogItem.at | at),
            WebhookLogItem.last_at.set(at),
            WebhookLogItem.status.set(entry.status.value),
            WebhookLogItem.rank.set(entry.rank),
            WebhookLogItem.archive_key.set(entry.archive_key),
            WebhookLogItem.entry_index.set(entry.entry_index),
            WebhookLogItem.change_index.set(entry.change_index),
            WebhookLogItem.gsi1pk.set(_log_gsi1pk(entry)),
            WebhookLogItem.gsi1sk.set(WebhookLogItem.gsi1sk | f"{at}#{entry.id}"),
        ]
        optional = (
            (WebhookLogItem.field, entry.field),
            (WebhookLogItem.event, entry.event),
            (WebhookLogItem.error, entry.error),
            (WebhookLogItem.connection_id, entry.connection_id),
            (WebhookLogItem.organization_id, entry.organization_id),
            (WebhookLogItem.phone_number_id, entry.phone_number_id),
            (WebhookLogItem.waba_id, entry.waba_id),
        )
        for attribute, value in optional:
            actions.append(attribute.set(value) if value is not None else attribute.remove())
        if entry.status is LogStatus.UNMATCHED and entry.phone_number_id is not None:
            actions.append(WebhookLogItem.gsi2pk.set(f"UNMATCHED#{entry.phone_number_id}"))
            actions.append(WebhookLogItem.gsi2sk.set(WebhookLogItem.gsi2sk | f"{at}#{entry.id}"))
        else:
            actions.append(WebhookLogItem.gsi2pk.remove())
            actions.append(WebhookLogItem.gsi2sk.remove())
        condition = WebhookLogItem.rank.does_not_exist() | (WebhookLogItem.rank <= entry.rank)
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _cause(exc) == CONDITIONAL_FAILED:
                return  # the entry is already further along (e.g. processed): keep it
            raise TransientError(f"webhook log write failed ({_cause(exc)})") from exc

    def set_status(self, log_id: str, status: LogStatus, at: datetime, error: str | None = None) -> bool:
        """A consumer's outcome for an existing entry (never moves it back); True when applied."""
        stamp = iso(at) or ""
        actions: list[Any] = [
            WebhookLogItem.status.set(status.value),
            WebhookLogItem.rank.set(STATUS_RANK[status]),
            WebhookLogItem.last_at.set(stamp),
            WebhookLogItem.error.set(error) if error else WebhookLogItem.error.remove(),
        ]
        if status is not LogStatus.UNMATCHED:
            actions += [WebhookLogItem.gsi2pk.remove(), WebhookLogItem.gsi2sk.remove()]
        return _conditional_update(
            WebhookLogItem(*log_key(log_id)),
            actions,
            WebhookLogItem.pk.exists() & (WebhookLogItem.rank <= STATUS_RANK[status]),
        )

    def unmatched(self, phone_number_id: str) -> list[WebhookLogEntry]:
        """Changes kept for a number that had no connection yet, oldest first."""
        with storage("unmatched query"):
            items = list(WebhookLogItem.unmatched_by_number.query(f"UNMATCHED#{phone_number_id}"))
        return [
            WebhookLogEntry(
                id=i.id,
                at=parse_iso(i.at) or datetime.now(UTC),
                status=LogStatus(i.status),
                archive_key=i.archive_key,
                entry_index=int(i.entry_index),
                change_index=int(i.change_index),
                field=i.field,
                event=i.event,
                phone_number_id=i.phone_number_id,
                waba_id=i.waba_id,
            )
            for i in items
        ]

    def attach(self, log_id: str, target: ConnectionTarget) -> bool:
        """An unmatched entry now belongs to ``target`` and is routed (it leaves the unmatched index)."""
        item = WebhookLogItem(*log_key(log_id))
        return _conditional_update(
            item,
            [
                WebhookLogItem.connection_id.set(target.connection_id),
                WebhookLogItem.organization_id.set(target.organization_id),
                WebhookLogItem.gsi1pk.set(f"CONN#{target.connection_id}"),
                WebhookLogItem.status.set(LogStatus.ROUTED.value),
                WebhookLogItem.rank.set(STATUS_RANK[LogStatus.ROUTED]),
                WebhookLogItem.error.remove(),
                WebhookLogItem.gsi2pk.remove(),
                WebhookLogItem.gsi2sk.remove(),
            ],
            WebhookLogItem.status == LogStatus.UNMATCHED.value,
        )

    def get(self, log_id: str) -> WebhookLogItem | None:
        with storage("webhook log get"):
            return get_or_none(WebhookLogItem, log_key(log_id), consistent_read=True)


# --------------------------------------------------------------------------- history sync state


def chunk_key(connection_id: str, phase: int, chunk_order: int) -> tuple[str, str]:
    return f"CONN#{connection_id}", f"CHUNK#{phase:03d}#{chunk_order:06d}"


_PRE_SYNC = (HistorySyncStatus.PENDING_CONSENT.value, HistorySyncStatus.NOT_REQUESTED.value)


def _conditional_update(item: Model, actions: list[Any], condition: Any) -> bool:
    """True when the update applied; False when its condition said no (an expected outcome)."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if _cause(exc) == CONDITIONAL_FAILED:
            return False
        raise TransientError(f"update failed ({_cause(exc)})") from exc
    return True


class DynamoHistorySync:
    """Atomic, order-independent updates of a connection's history-sync state (CONTRACT §8.5)."""

    def chunk_arrived(self, connection_id: str, phase: int, chunk_order: int, progress: int, at: datetime) -> bool:
        """Record arrival; True when this chunk started the sync (first chunk → ``syncing``)."""
        item = ConnectionItem(*connection_key(connection_id))
        with storage("sync state update"):
            item.update(
                actions=[
                    ConnectionItem.hs_last_payload_at.set(at),
                    ConnectionItem.hs_started_at.set(ConnectionItem.hs_started_at | at),
                ]
            )
        # progress/phase/chunk shown are those of the highest progress seen, never going back
        _conditional_update(
            item,
            [
                ConnectionItem.hs_progress.set(progress),
                ConnectionItem.hs_phase.set(phase),
                ConnectionItem.hs_chunk_order.set(chunk_order),
            ],
            ConnectionItem.hs_progress.does_not_exist() | (ConnectionItem.hs_progress < progress),
        )
        return _conditional_update(
            item,
            [ConnectionItem.hs_status.set(HistorySyncStatus.SYNCING.value)],
            ConnectionItem.hs_status.is_in(*_PRE_SYNC),
        )

    def complete(self, connection_id: str, at: datetime) -> bool:
        """``progress`` 100 in any phase → ``completed``; True on the transition."""
        return _conditional_update(
            ConnectionItem(*connection_key(connection_id)),
            [
                ConnectionItem.hs_status.set(HistorySyncStatus.COMPLETED.value),
                ConnectionItem.hs_completed_at.set(ConnectionItem.hs_completed_at | at),
            ],
            ConnectionItem.hs_status != HistorySyncStatus.COMPLETED.value,
        )

    def stop(self, connection_id: str, status: HistorySyncStatus, code: str, message: str, at: datetime) -> bool:
        """``declined`` (2593109) or ``failed`` with its error; True on the transition."""
        return _conditional_update(
            ConnectionItem(*connection_key(connection_id)),
            [
                ConnectionItem.hs_status.set(status.value),
                ConnectionItem.hs_error_code.set(code),
                ConnectionItem.hs_error_message.set(message),
                ConnectionItem.hs_last_payload_at.set(at),
            ],
            ConnectionItem.hs_status != status.value,
        )

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
    ) -> None:
        item = ChunkItem(
            *chunk_key(connection_id, phase, chunk_order),
            phase=phase,
            chunk_order=chunk_order,
            progress=progress,
            threads=threads,
            messages=messages,
            received_at=at,
            status=status,
            error=error,
            log_id=log_id,
        )
        with storage("chunk record"):
            item.save()

    def set_connection_status(self, connection_id: str, status: ConnectionStatus) -> bool:
        return _conditional_update(
            ConnectionItem(*connection_key(connection_id)),
            [ConnectionItem.connection_status.set(status.value)],
            ConnectionItem.connection_status != status.value,
        )

    def chunks(self, connection_id: str) -> list[ChunkItem]:
        with storage("chunk list"):
            return list(ChunkItem.query(f"CONN#{connection_id}", ChunkItem.sk.startswith("CHUNK#")))
