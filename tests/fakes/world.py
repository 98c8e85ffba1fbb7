"""The whole service in memory: every fake on one database, the services wired to them, and a pump.

``world.deliver(document, ...)`` signs each Meta document, posts it through ``IngestService.receive``
and then hands every published :class:`ChangeMessage` to ``ChangeConsumer.consume`` (first
published, first consumed), as the queues and their consumers would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from devstack.meta import MetaSimulator
from tests.builders.events import meta_bytes
from tests.fakes.accounts import (
    InMemoryConnections,
    InMemoryHistorySync,
    InMemoryInboxChanges,
    InMemoryOrganizations,
    InMemoryVault,
)
from tests.fakes.contacts import InMemoryContactSync
from tests.fakes.database import InMemoryDatabase
from tests.fakes.history_threads import InMemoryHistoryThreads
from tests.fakes.inbox import InMemoryAuditLog, InMemoryConversations, InMemoryLeads, InMemoryMessages, InMemoryTickets
from tests.fakes.media import InMemoryMediaFiles, InMemoryMediaState, RecordingMediaJobs
from tests.fakes.operations import RecordingMetrics, RecordingNotifier
from tests.fakes.reader import InMemoryReader
from tests.fakes.replies import InMemoryReplyStore, InMemorySendPacer, RecordingOutbox
from tests.fakes.webhooks import (
    InMemoryArchive,
    InMemoryDirectory,
    InMemoryWebhookLog,
    RecordingPublisher,
    RecordingReplayJobs,
    StaticSecrets,
)
from whatrack.adapters.graph import HttpGraphApi
from whatrack.adapters.media_source import HttpMediaSource
from whatrack.config import MEDIA_MAX_BYTES
from whatrack.domain.changes import ChangeMessage
from whatrack.domain.clock import utcnow
from whatrack.domain.connections import Connection, ConnectionMode, ConnectionRequest
from whatrack.domain.inbox import Lead, Ticket
from whatrack.domain.log import LogRecord
from whatrack.domain.media import MediaState
from whatrack.domain.messages import Message
from whatrack.domain.organizations import Organization
from whatrack.domain.pacing import Pace
from whatrack.services.connections import ConnectionService
from whatrack.services.consumer import ChangeConsumer
from whatrack.services.embedded_signup import EmbeddedSignup
from whatrack.services.ingest import IngestReport, IngestService
from whatrack.services.media import AllowedHosts, MediaFetcher
from whatrack.services.media_sweep import MediaSweep
from whatrack.services.new_conversations import NewConversations
from whatrack.services.number_check import NumberChecker
from whatrack.services.organizations import OrganizationService
from whatrack.services.processors.base import InboxPorts
from whatrack.services.processors.registry import build_registry
from whatrack.services.queries import InboxQueries
from whatrack.services.replay import KeptChanges, ReplayScheduler, UnmatchedReplayer
from whatrack.services.replies import ReplyDesk, ReplySender, ReplySweep
from whatrack.services.retry import ChunkRetry
from whatrack.services.sync_requests import SyncRequester
from whatrack.services.templates import TemplateCatalog
from whatrack.services.watchdog import Watchdog
from whatrack.webhooks.signature import sign

MAX_BODY_BYTES = 10 * 1024 * 1024
INLINE_CHANGE_LIMIT_BYTES = 200_000


class InMemoryWorld:
    """Every port faked on one :class:`InMemoryDatabase`, plus the services built on them."""

    def __init__(
        self,
        *,
        app_secret: str = "test-secret",
        verify_token: str = "test-token",
        clock: Callable[[], datetime] = utcnow,
        max_body_bytes: int = MAX_BODY_BYTES,
        inline_change_limit_bytes: int = INLINE_CHANGE_LIMIT_BYTES,
        graph: MetaSimulator | None = None,
    ) -> None:
        self.db = db = InMemoryDatabase()
        self.clock = clock
        self.graph = graph if graph is not None else MetaSimulator()  # Meta, in-process (open(): no socket)
        self.notifier = RecordingNotifier()
        self.metrics = RecordingMetrics()
        self.max_body_bytes = max_body_bytes
        self.inline_change_limit_bytes = inline_change_limit_bytes
        # webhook path
        self.archive = InMemoryArchive(db=db)
        self.publisher = RecordingPublisher(db=db)
        self.replay_jobs = RecordingReplayJobs(db=db)
        # media
        self.media_jobs = RecordingMediaJobs()
        self.media_state = InMemoryMediaState(db=db)
        self.media_files = InMemoryMediaFiles()
        self.replies = InMemoryReplyStore(db=db)
        self.outbox = RecordingOutbox()
        self.pacer = InMemorySendPacer(Pace(18.5, 20.0))  # ReplySettings' defaults
        self.slept: list[float] = []
        self.sleep = self.slept.append  # a send waiting for its slot: noted, not waited
        self.secrets = StaticSecrets(app_secret=app_secret, verify_token=verify_token)
        self.directory = InMemoryDirectory(db=db)
        self.webhook_log = InMemoryWebhookLog(db=db)
        # accounts
        self.organizations = InMemoryOrganizations(db=db)
        self.vault = InMemoryVault(db=db)
        self.connections = InMemoryConnections(db=db)
        self.sync = InMemoryHistorySync(db=db)
        self.changes = InMemoryInboxChanges(db=db)
        # inbox
        self.leads = InMemoryLeads(db=db)
        self.conversations = InMemoryConversations(db=db)
        self.messages = InMemoryMessages(db=db)
        self.tickets = InMemoryTickets(db=db)
        self.audit = InMemoryAuditLog(db=db)
        self.contacts = InMemoryContactSync(db=db)
        self.threads = InMemoryHistoryThreads(db=db)
        self.reader = InMemoryReader(db=db)
        self.ports = InboxPorts(
            connections=self.connections,
            sync=self.sync,
            leads=self.leads,
            conversations=self.conversations,
            messages=self.messages,
            tickets=self.tickets,
            audit=self.audit,
            contacts=self.contacts,
            threads=self.threads,
            media_jobs=self.media_jobs,
            replies=self.replies,
            clock=clock,
            metrics=self.metrics,
        )
        self._ingest: IngestService | None = None
        self._consumer: ChangeConsumer | None = None
        self._consumed = 0

    # ------------------------------------------------------------------ services
    def ingest_service(self) -> IngestService:
        if self._ingest is None:
            self._ingest = IngestService(
                archive=self.archive,
                publisher=self.publisher,
                directory=self.directory,
                webhook_log=self.webhook_log,
                secrets=self.secrets,
                max_body_bytes=self.max_body_bytes,
                inline_change_limit_bytes=self.inline_change_limit_bytes,
                clock=self.clock,
            )
        return self._ingest

    def consumer(self) -> ChangeConsumer:
        """One consumer for every field, with the processors of ``build_registry(self.ports)``."""
        if self._consumer is None:
            registry = build_registry(self.ports)
            self._consumer = ChangeConsumer(
                self.archive,
                registry.processors,
                self.webhook_log,
                dead_letter_hooks=registry.dead_letter_hooks,
                clock=self.clock,
                metrics=self.metrics,
                changes=self.changes,
            )
        return self._consumer

    def replayer(self) -> UnmatchedReplayer:
        kept = KeptChanges(self.webhook_log, self.publisher, clock=self.clock)
        return UnmatchedReplayer(self.webhook_log, kept, self.replay_jobs, self.connections, self.metrics)

    def replays(self) -> ReplayScheduler:
        return ReplayScheduler(self.webhook_log, self.replay_jobs)

    def graph_api(self) -> HttpGraphApi:
        """The real Graph client, answered in-process by ``self.graph`` (no socket)."""
        return HttpGraphApi(
            base_url="http://graph.test",
            version=self.graph.version,
            app_id=self.graph.app_id,
            app_secret=lambda: self.graph.app_secret,
            timeout_seconds=1.0,
            opener=self.graph.open,
            sleep=lambda _seconds: None,
        )

    def media_fetcher(self, *, max_bytes: int = MEDIA_MAX_BYTES, hosts: str | None = None) -> MediaFetcher:
        """The media function's service on the fakes, downloading from ``self.graph`` in-process."""
        return MediaFetcher(
            store=self.media_state,
            source=HttpMediaSource(self.graph_api(), opener=self.graph.open),
            files=self.media_files,
            connections=self.connections,
            tokens=self.vault,
            hosts=AllowedHosts.parse(hosts if hosts is not None else self.graph.download_host),
            max_bytes=max_bytes,
            lease=timedelta(minutes=5),
            metrics=self.metrics,
            clock=self.clock,
        )

    def run_media_jobs(self, fetcher: MediaFetcher | None = None) -> list[MediaState | None]:
        """Run every queued media job once (a job that raises is dropped: the queue would retry it)."""
        fetcher = fetcher or self.media_fetcher()
        outcomes: list[MediaState | None] = []
        for job in self.media_jobs.take():
            outcomes.append(fetcher.fetch(job))
        return outcomes

    def sync_requester(self) -> SyncRequester:
        return SyncRequester(
            connections=self.connections,
            sync=self.sync,
            vault=self.vault,
            graph=self.graph_api(),
            audit=self.audit,
            clock=self.clock,
        )

    def number_checker(self) -> NumberChecker:
        return NumberChecker(self.connections, self.vault, self.graph_api(), self.audit, clock=self.clock)

    def connection_service(self) -> ConnectionService:
        return ConnectionService(
            self.connections,
            self.vault,
            replays=self.replays(),
            graph=self.graph_api(),
            audit=self.audit,
            requester=self.sync_requester(),
            numbers=self.number_checker(),
            clock=self.clock,
        )

    def embedded_signup(self) -> EmbeddedSignup:
        return EmbeddedSignup(self.graph_api(), self.connection_service())

    def chunk_retry(self) -> ChunkRetry:
        """The retry as the status API wires it: failed history changes and kept unmatched ones."""
        return ChunkRetry(
            connections=self.connections,
            log=self.webhook_log,
            publisher=self.publisher,
            sync=self.sync,
            audit=self.audit,
            replays=self.replays(),
            clock=self.clock,
        )

    def watchdog(
        self, stall_after: timedelta = timedelta(minutes=30), media_sweep_after: timedelta = timedelta(hours=6)
    ) -> Watchdog:
        return Watchdog(
            connections=self.connections,
            sync=self.sync,
            audit=self.audit,
            notifier=self.notifier,
            metrics=self.metrics,
            numbers=self.number_checker(),
            media=MediaSweep(self.media_state, self.media_jobs, sweep_after=media_sweep_after, clock=self.clock),
            replies=ReplySweep(self.replies, self.outbox, after=timedelta(minutes=5), clock=self.clock),
            stall_after=stall_after,
            clock=self.clock,
        )

    def reply_desk(self) -> ReplyDesk:
        return ReplyDesk(
            connections=self.connections,
            reader=self.reader,
            messages=self.messages,
            tickets=self.tickets,
            replies=self.replies,
            outbox=self.outbox,
            templates=TemplateCatalog(self.connections, self.vault, self.graph_api(), clock=self.clock),
            clock=self.clock,
        )

    def reply_sender(self, lease: timedelta = timedelta(seconds=60)) -> ReplySender:
        return ReplySender(
            replies=self.replies,
            connections=self.connections,
            tokens=self.vault,
            graph=self.graph_api(),
            metrics=self.metrics,
            lease=lease,
            pacer=self.pacer,
            changes=self.changes,
            clock=self.clock,
            sleep=self.sleep,
        )

    def new_conversations(self) -> NewConversations:
        return NewConversations(
            connections=self.connections,
            leads=self.leads,
            conversations=self.conversations,
            tickets=self.tickets,
            reader=self.reader,
            changes=self.changes,
            clock=self.clock,
        )

    def organization_service(self) -> OrganizationService:
        return OrganizationService(self.organizations, self.secrets)

    def queries(self) -> InboxQueries:
        return InboxQueries(self.reader, self.connections, self.tickets, changes=self.changes, clock=self.clock)

    # ------------------------------------------------------------------ onboarding
    def organization(self, name: str = "Acme") -> Organization:
        organization, _ = self.organization_service().create(name)
        return organization

    def connect(
        self,
        organization_id: str | None = None,
        *,
        phone_number_id: str = "209988776655443",
        waba_id: str = "401122334455667",
        display_phone_number: str | None = "5491155550100",
        mode: ConnectionMode = ConnectionMode.COEXISTENCE,
        sync_history: bool = True,
        access_token: str | None = None,
    ) -> Connection:
        """Connect a number (a new organization unless given); kept unmatched changes are republished."""
        request = ConnectionRequest(
            phone_number_id=phone_number_id,
            waba_id=waba_id,
            mode=mode,
            sync_history=sync_history,
            display_phone_number=display_phone_number,
            access_token=access_token,
        )
        return self.connection_service().connect(organization_id or self.organization().id, request).connection

    # ------------------------------------------------------------------ delivery
    def post(self, document: Any, correlation_id: str | None = None) -> IngestReport:
        """Sign ``document`` (a Meta body) with the app secret and receive it (nothing consumed yet)."""
        raw = document if isinstance(document, bytes) else meta_bytes(document)
        return self.ingest_service().receive(raw, sign(raw, self.secrets.app_secret()), correlation_id)

    def run_replay_jobs(self) -> int:
        """Run every queued replay job (and the continuations they queue); the changes they sent."""
        sent = 0
        while self.replay_jobs.jobs:
            sent += self.replayer().run(self.replay_jobs.jobs.pop(0))
        return sent

    def pump(self) -> list[ChangeMessage]:
        """Run the queued replay jobs, then consume every published message not consumed yet, in
        publication order; those consumed."""
        consumed: list[ChangeMessage] = []
        self.run_replay_jobs()
        while self._consumed < len(self.publisher.sent):
            message = self.publisher.sent[self._consumed]
            self._consumed += 1
            self.consumer().consume(message)
            consumed.append(message)
        return consumed

    def dead_letter(self) -> list[ChangeMessage]:
        """Hand every published message not consumed yet to ``consume_dead_letter`` (it kept failing)."""
        dead: list[ChangeMessage] = []
        while self._consumed < len(self.publisher.sent):
            message = self.publisher.sent[self._consumed]
            self._consumed += 1
            self.consumer().consume_dead_letter(message)
            dead.append(message)
        return dead

    def deliver(self, *documents: Any) -> None:
        """Post every document, then pump the queues."""
        for document in documents:
            self.post(document)
        self.pump()

    # ------------------------------------------------------------------ inspection (whole database)
    def all_leads(self) -> list[Lead]:
        with self.db.lock:
            return [row.lead for row in self.db.leads.values() if row.lead.merged_into is None]

    def all_messages(self) -> dict[str, Message]:
        """Every stored message of every conversation, by wamid."""
        with self.db.lock:
            return {row.wamid: row.to_message() for row in self.db.messages.values() if row.stored}

    def all_tickets(self) -> list[Ticket]:
        with self.db.lock:
            return [row.ticket for row in self.db.tickets.values()]

    def logs(self, connection_id: str) -> list[LogRecord]:
        """The connection's whole log (webhook and audit entries), newest first."""
        return self.reader.logs(connection_id, limit=10_000, cursor=None).items
