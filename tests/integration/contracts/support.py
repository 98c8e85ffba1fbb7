"""The two backends of the port contract suite, and the givens its tests share."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.provision import Provisioned
from tests.fakes import InMemoryWorld
from tests.fakes.replies import InMemorySendPacer
from whatrack.adapters.archive import S3ArchiveStore
from whatrack.adapters.dynamo import client as dynamo_client
from whatrack.adapters.dynamo.audit import DynamoAuditLog
from whatrack.adapters.dynamo.connections import DynamoConnectionRepository
from whatrack.adapters.dynamo.contacts import DynamoContactSync
from whatrack.adapters.dynamo.conversations import DynamoConversationRepository
from whatrack.adapters.dynamo.directory import DynamoConnectionDirectory
from whatrack.adapters.dynamo.history_sync import DynamoHistorySync
from whatrack.adapters.dynamo.history_threads import DynamoHistoryThreads
from whatrack.adapters.dynamo.leads import DynamoLeadRepository
from whatrack.adapters.dynamo.media import DynamoMediaStateStore
from whatrack.adapters.dynamo.messages import DynamoMessageRepository
from whatrack.adapters.dynamo.organizations import DynamoOrganizationRepository
from whatrack.adapters.dynamo.pacing import DynamoSendPacer
from whatrack.adapters.dynamo.reader import DynamoReader
from whatrack.adapters.dynamo.tables import bind_tables
from whatrack.adapters.dynamo.tickets import DynamoTicketRepository
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog
from whatrack.adapters.secrets import SecretsManagerTokenVault
from whatrack.domain.connections import (
    Connection,
    ConnectionMode,
    ConnectionStatus,
    HistorySyncState,
    HistorySyncStatus,
)
from whatrack.domain.identity import ContactIdentity
from whatrack.domain.ids import new_id
from whatrack.domain.inbox import (
    TICKET_WINDOW,
    LeadSource,
    ResolvedLead,
    TicketOpening,
    TicketOrigin,
    TicketSource,
    service_window_end,
)
from whatrack.domain.log import LogKind, LogStatus, WebhookLogEntry
from whatrack.domain.messages import MEDIA_PLACEHOLDER_TYPE, Direction, MessageSource, NewMessage
from whatrack.domain.pacing import Pace
from whatrack.ports import (
    ArchiveStore,
    AuditLog,
    ConnectionDirectory,
    ConnectionRepository,
    ContactSyncStore,
    ConversationRepository,
    HistorySyncStore,
    HistoryThreadStore,
    InboxReader,
    LeadRepository,
    MediaStateStore,
    MessageRepository,
    OrganizationRepository,
    TicketRepository,
    TokenVault,
    WebhookLog,
)
from whatrack.ports.replies import SendPacer

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WABA_DISPLAY = "5491155550100"
ARCHIVE_KEY = "webhooks/sha256/ab/" + "ab" * 32
_numbers = itertools.count(1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def unique_number(prefix: str = "551196") -> str:
    """A fresh 13-digit number (by default a São Paulo mobile, ``55 11 96xxx-xxxx``) for this process."""
    width = 13 - len(prefix)
    return f"{prefix}{next(_numbers) % 10**width:0{width}d}"


def phone(raw: str) -> ContactIdentity:
    return ContactIdentity.of(wa_id=raw)


# --------------------------------------------------------------------------- the two backends
@dataclass(frozen=True)
class Ports:
    backend: str
    organizations: OrganizationRepository
    connections: ConnectionRepository
    directory: ConnectionDirectory
    sync: HistorySyncStore
    leads: LeadRepository
    conversations: ConversationRepository
    messages: MessageRepository
    tickets: TicketRepository
    audit: AuditLog
    webhook_log: WebhookLog
    reader: InboxReader
    archive: ArchiveStore
    vault: TokenVault
    contacts: ContactSyncStore
    threads: HistoryThreadStore
    media_state: MediaStateStore
    pacer: SendPacer


CONTRACT_PACE = Pace(per_second=10.0, max_wait=1.0)  # a slot every 0.1 s, waited for up to 1 s


def memory_ports() -> Ports:
    world = InMemoryWorld()
    return Ports(
        backend="memory",
        organizations=world.organizations,
        connections=world.connections,
        directory=world.directory,
        sync=world.sync,
        leads=world.leads,
        conversations=world.conversations,
        messages=world.messages,
        tickets=world.tickets,
        audit=world.audit,
        webhook_log=world.webhook_log,
        reader=world.reader,
        archive=world.archive,
        vault=world.vault,
        contacts=world.contacts,
        threads=world.threads,
        media_state=world.media_state,
        pacer=InMemorySendPacer(CONTRACT_PACE),
    )


def dynamodb_ports(stack: Provisioned) -> Ports:
    dynamo_client.reset()
    bind_tables(accounts=stack.tables["AccountsTable"], inbox=stack.tables["InboxTable"], log=stack.tables["LogTable"])
    return Ports(
        backend="dynamodb",
        organizations=DynamoOrganizationRepository(),
        connections=DynamoConnectionRepository(),
        directory=DynamoConnectionDirectory(),
        sync=DynamoHistorySync(),
        leads=DynamoLeadRepository(),
        conversations=DynamoConversationRepository(),
        messages=DynamoMessageRepository(),
        tickets=DynamoTicketRepository(),
        audit=DynamoAuditLog(),
        webhook_log=DynamoWebhookLog(),
        reader=DynamoReader(),
        archive=S3ArchiveStore(stack.buckets["ArchiveBucket"]),
        vault=SecretsManagerTokenVault("whatrack-contract/connections/"),
        contacts=DynamoContactSync(),
        threads=DynamoHistoryThreads(),
        media_state=DynamoMediaStateStore(),
        pacer=DynamoSendPacer(CONTRACT_PACE),
    )


# --------------------------------------------------------------------------- givens
def connect(
    ports: Ports,
    organization_id: str | None = None,
    *,
    phone_number_id: str | None = None,
    waba_id: str | None = None,
    display: str | None = WABA_DISPLAY,
    status: HistorySyncStatus = HistorySyncStatus.PENDING_CONSENT,
    created_at: datetime = T0,
    verified: bool = False,
) -> Connection:
    connection = Connection(
        id=new_id(),
        organization_id=organization_id or new_id(),
        phone_number_id=phone_number_id or unique_number("2099"),
        waba_id=waba_id or unique_number("4011"),
        display_phone_number=display,
        display_name=None,
        mode=ConnectionMode.COEXISTENCE,
        sync_history=True,
        connection_status=ConnectionStatus.ACTIVE,
        created_at=created_at,
        verified=verified,
        history=HistorySyncState(status=status),
    )
    ports.connections.create(connection)
    return connection


def history(ports: Ports, connection_id: str) -> HistorySyncState:
    found = ports.connections.get(connection_id)
    assert found is not None
    return found.history


def stored(ports: Ports, connection_id: str) -> Connection:
    found = ports.connections.get(connection_id)
    assert found is not None
    return found


@dataclass(frozen=True)
class Inbox:
    """A connection with one lead and its conversation there."""

    connection: Connection
    lead: ResolvedLead
    conversation_id: str

    @property
    def organization_id(self) -> str:
        return self.connection.organization_id


def inbox(ports: Ports, *, source: LeadSource = LeadSource.LIVE_MESSAGE) -> Inbox:
    connection = connect(ports)
    lead = ports.leads.resolve(connection.organization_id, phone(unique_number()), source, T0)
    conversation_id = ports.conversations.ensure(connection.organization_id, lead.lead.id, connection.id, T0, None)
    return Inbox(connection, lead, conversation_id)


def message(
    wamid: str,
    seconds: float = 0,
    *,
    direction: Direction = Direction.INBOUND,
    source: MessageSource = MessageSource.HISTORY,
    kind: str = "text",
    body: str | None = "oi",
    status: str | None = None,
    media: dict[str, Any] | None = None,
    deleted: bool = False,
) -> NewMessage:
    return NewMessage(
        wamid=wamid,
        direction=direction,
        source=source,
        type=kind,
        timestamp=at(seconds),
        body=body,
        status=status,
        media=media,
        deleted=deleted,
    )


def placeholder(wamid: str, seconds: float = 0) -> NewMessage:
    return message(wamid, seconds, kind=MEDIA_PLACEHOLDER_TYPE, body=None, media={"id": None, "mimeType": None})


def put(ports: Ports, box: Inbox, new: NewMessage, *, history: bool = False) -> bool:
    """Insert ``new`` into the box's conversation."""
    return ports.messages.insert(box.organization_id, box.connection.id, box.conversation_id, new, history=history)


def stored_message(ports: Ports, box: Inbox, wamid: str) -> dict[str, object]:
    found = {m.id: m for m in ports.reader.all_messages(box.conversation_id)}
    assert wamid in found, f"{wamid} not listed in its conversation"
    m = found[wamid]
    return {
        "type": m.type,
        "body": m.body,
        "status": m.status,
        "error": m.error,
        "source": m.source,
        "deleted": m.deleted,
        "media_id": m.media.id if m.media else None,
        "confirmed": m.meta_confirmed_at,
        "timestamp": m.timestamp,
    }


def message_count(ports: Ports, conversation_id: str) -> int:
    conversation = ports.reader.conversation(conversation_id)
    assert conversation is not None
    return conversation.message_count


def open_ticket(
    ports: Ports,
    box: Inbox,
    wamid: str,
    seconds: float = 0,
    *,
    origin: TicketOrigin = TicketOrigin.NEW_CONTACT,
    windowless: bool = False,
) -> str | None:
    """What a live message at ``seconds`` does: open a ticket (24 h window unless ``windowless``); its id."""
    return opening(ports, box, wamid, seconds, origin=origin, windowless=windowless).ticket_id


def opening(
    ports: Ports,
    box: Inbox,
    wamid: str,
    seconds: float = 0,
    *,
    origin: TicketOrigin = TicketOrigin.NEW_CONTACT,
    windowless: bool = False,
) -> TicketOpening:
    """:func:`open_ticket`, with what the open did."""
    return ports.tickets.open(
        lead=box.lead,
        connection_id=box.connection.id,
        conversation_id=box.conversation_id,
        wamid=wamid,
        origin=origin,
        window=None if windowless else at(seconds) + TICKET_WINDOW,
        message_at=at(seconds),
        source=TicketSource.INCOMING_MESSAGE,
        service_window=service_window_end(at(seconds)),
    )


def log_entry(
    connection: Connection | None,
    status: LogStatus,
    seconds: float = 0,
    *,
    log_id: str | None = None,
    phone_number_id: str | None = None,
    error: str | None = None,
) -> WebhookLogEntry:
    return WebhookLogEntry(
        id=log_id or new_id(),
        at=at(seconds),
        status=status,
        archive_key=ARCHIVE_KEY,
        entry_index=0,
        change_index=0,
        field="history",
        event="history",
        error=error,
        connection_id=connection.id if connection else None,
        organization_id=connection.organization_id if connection else None,
        phone_number_id=phone_number_id,
        waba_id="401122334455667",
    )


def webhook_statuses(ports: Ports, connection_id: str) -> dict[str, str | None]:
    page = ports.reader.logs(connection_id, limit=100, cursor=None)
    return {r.id: r.status for r in page.items if r.kind is LogKind.WEBHOOK}
