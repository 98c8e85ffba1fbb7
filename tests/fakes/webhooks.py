"""The webhook path's ports in memory: archive, publisher, secrets, connection directory, webhook log."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from tests.fakes.database import InMemoryDatabase, WabaLink, WebhookRow, utc
from whatrack.domain.changes import ChangeMessage, ReplayJob, WebhookField
from whatrack.domain.clock import iso, parse_iso
from whatrack.domain.errors import TransientError
from whatrack.domain.log import PENDING_STATUSES, STATUS_RANK, LogStatus, WebhookLogEntry
from whatrack.domain.paging import Page
from whatrack.domain.routing import ConnectionTarget, digits_only

ARCHIVE_PREFIX = "webhooks/sha256/"


class InMemoryArchive:
    """:class:`whatrack.ports.ArchiveStore`: content-addressed like ``S3ArchiveStore`` (same keys)."""

    def __init__(self, *, fail: bool = False, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()
        self.puts = 0
        self.fail = fail

    @property
    def objects(self) -> dict[str, bytes]:
        return self._db.objects

    def put_raw(self, raw: bytes, *, received_at: datetime) -> str:
        if self.fail:
            raise TransientError("archive put failed (ServiceUnavailable)")
        digest = hashlib.sha256(raw).hexdigest()
        key = f"{ARCHIVE_PREFIX}{digest[:2]}/{digest}"
        with self._db.lock:
            self.puts += 1
            self._db.objects.setdefault(key, bytes(raw))
        return key

    def get_raw(self, key: str) -> bytes:
        with self._db.lock:
            found = self._db.objects.get(key)
        if found is None:
            raise TransientError("archive get failed (NoSuchKey)")
        return found


class RecordingPublisher:
    """:class:`whatrack.ports.ChangePublisher`: keeps every published message, in order, in :attr:`sent`."""

    def __init__(self, *, fail: bool = False, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()
        self.sent: list[ChangeMessage] = []
        self.fail = fail

    def publish(self, messages: Sequence[ChangeMessage]) -> None:
        if self.fail and messages:
            raise TransientError("queue send failed (ServiceUnavailable)")
        delivered = [ChangeMessage.decode(sqs_body(message.encode())) for message in messages]
        with self._db.lock:
            self.sent.extend(delivered)


# What SQS accepts in a message body (its documented character set); moto does not check it.
SQS_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SQS_MAX_BODY_BYTES = 262_144


def sqs_body(body: str) -> str:
    """``body`` as SQS would take it, or the error SQS would answer."""
    if SQS_FORBIDDEN.search(body):
        raise ValueError("InvalidMessageContents: the message contains characters outside the allowed set")
    if len(body.encode("utf-8", "surrogatepass")) > SQS_MAX_BODY_BYTES:
        raise ValueError("InvalidParameterValue: the message is larger than 256 KiB")
    return body


class RecordingReplayJobs:
    """:class:`whatrack.ports.ReplayJobQueue`: jobs wait in :attr:`jobs` until a test (or the world's
    pump) runs them."""

    def __init__(self, *, fail: bool = False, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()
        self.fail = fail

    @property
    def jobs(self) -> list[ReplayJob]:
        return self._db.replay_jobs

    def enqueue(self, job: ReplayJob) -> None:
        if self.fail:
            raise TransientError("replay job send failed (ServiceUnavailable)")
        with self._db.lock:
            self._db.replay_jobs.append(ReplayJob.decode(job.encode()))


class StaticSecrets:
    """:class:`whatrack.ports.WebhookSecrets` and :class:`whatrack.ports.AdminCredentials`."""

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
    """:class:`whatrack.ports.ConnectionDirectory` over the phone-number guards and WABA links that
    :class:`tests.fakes.accounts.InMemoryConnections` writes (or :meth:`add` writes directly)."""

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    def add(self, phone_number_id: str, waba_id: str, display: str | None, target: ConnectionTarget) -> None:
        """Route ``phone_number_id`` (and ``waba_id``) to ``target`` without creating a connection."""
        with self._db.lock:
            self._db.phone_number_guards[phone_number_id] = target
            self._db.waba_links.setdefault(waba_id, {})[target.connection_id] = WabaLink(target, display)

    def targets_for_phone_number_id(self, phone_number_id: str, *, consistent: bool = False) -> list[ConnectionTarget]:
        with self._db.lock:
            target = self._db.phone_number_guards.get(phone_number_id)
        return [target] if target else []

    def targets_for_waba(self, waba_id: str, display_phone_number: str | None) -> list[ConnectionTarget]:
        """Links of the WABA by connection id; with a number, those showing it (any notation), else
        those that have no number (as ``DynamoConnectionDirectory``)."""
        with self._db.lock:
            links = [link for _, link in sorted(self._db.waba_links.get(waba_id, {}).items())]
        links = [link for link in links if link.verified] or links
        wanted = digits_only(display_phone_number)
        if wanted is not None:
            links = [link for link in links if digits_only(link.display_phone_number) == wanted] or [
                link for link in links if link.display_phone_number is None
            ]
        return [link.target for link in links]


def _partition(entry: WebhookLogEntry) -> str:
    if entry.connection_id is not None:
        return f"CONN#{entry.connection_id}"
    return f"NOCONN#{entry.at.date().isoformat()}"


def _entry(row: WebhookRow) -> WebhookLogEntry:
    return WebhookLogEntry(
        id=row.id,
        at=parse_iso(row.at) or datetime.now(UTC),
        status=row.status,
        archive_key=row.archive_key,
        entry_index=row.entry_index,
        change_index=row.change_index,
        field=row.field,
        event=row.event,
        error=row.error,
        connection_id=row.connection_id,
        organization_id=row.organization_id,
        phone_number_id=row.phone_number_id,
        waba_id=row.waba_id,
        correlation_id=row.correlation_id,
        event_at=row.event_at,
        redrives=row.redrives,
    )


def _page_of(entries: list[WebhookLogEntry], keys: list[str], limit: int, cursor: str | None) -> Page[WebhookLogEntry]:
    """Entries sorted by ``keys``, from after ``cursor`` (the last key of the previous page)."""
    start = 0 if cursor is None else next((i for i, k in enumerate(keys) if k > cursor), len(keys))
    chosen = entries[start : start + limit]
    more = start + limit < len(entries)
    return Page(chosen, keys[start + limit - 1] if more else None)


class InMemoryWebhookLog:
    """:class:`whatrack.ports.WebhookLog` with ``DynamoWebhookLog``'s conditions.

    An entry is written only when it is new or its status ranks at least as high as the stored
    one (:data:`whatrack.domain.log.STATUS_RANK`); ``at`` is the first time it was written (ms).
    """

    def __init__(self, *, db: InMemoryDatabase | None = None) -> None:
        self._db = db or InMemoryDatabase()

    @property
    def entries(self) -> dict[str, WebhookLogEntry]:
        """Every entry as it is stored now, by id."""
        with self._db.lock:
            return {log_id: _entry(row) for log_id, row in self._db.webhook_log.items()}

    def entry(self, log_id: str) -> WebhookLogEntry | None:
        with self._db.lock:
            row = self._db.webhook_log.get(log_id)
            return None if row is None else _entry(row)

    def record(self, entries: Sequence[WebhookLogEntry]) -> None:
        with self._db.lock:
            for entry in entries:
                self._record_one(entry)

    def _record_one(self, entry: WebhookLogEntry) -> None:
        at = iso(entry.at)
        assert at is not None
        row = self._db.webhook_log.get(entry.id)
        if row is not None and row.rank > entry.rank:
            return
        kept = entry.status is LogStatus.UNMATCHED and entry.phone_number_id is not None
        if kept:
            assert entry.phone_number_id is not None
            self._db.kept[(entry.phone_number_id, entry.id)] = replace(entry, connection_id=None, organization_id=None)
        first_key = f"{at}#{entry.id}"
        if row is None:
            row = WebhookRow(
                id=entry.id,
                at=at,
                last_at=at,
                status=entry.status,
                rank=entry.rank,
                archive_key=entry.archive_key,
                entry_index=entry.entry_index,
                change_index=entry.change_index,
                by_connection=_partition(entry),
                by_connection_key=first_key,
            )
            self._db.webhook_log[entry.id] = row
        row.last_at = at
        row.status = entry.status
        row.rank = entry.rank
        row.archive_key = entry.archive_key
        row.entry_index = entry.entry_index
        row.change_index = entry.change_index
        row.by_connection = _partition(entry)
        row.field = entry.field
        row.event = entry.event
        row.error = entry.error
        row.connection_id = entry.connection_id
        row.organization_id = entry.organization_id
        row.phone_number_id = entry.phone_number_id
        row.waba_id = entry.waba_id
        row.correlation_id = entry.correlation_id
        row.event_at = utc(entry.event_at) if entry.event_at is not None else None
        row.unmatched_number = row.unmatched_key = None
        row.failed_partition = row.failed_key = None
        pending = entry.status in PENDING_STATUSES and (kept or entry.connection_id is not None)
        row.pending_key = f"{at}#{entry.id}" if pending else None

    def set_status(self, log_id: str, status: LogStatus, at: datetime, error: str | None = None) -> bool:
        with self._db.lock:
            row = self._db.webhook_log.get(log_id)
            if row is None or row.rank > STATUS_RANK[status]:
                return False
            row.status = status
            row.rank = STATUS_RANK[status]
            row.last_at = iso(at) or ""
            row.error = error or None
            if status not in PENDING_STATUSES:
                row.unmatched_number = row.unmatched_key = None
                row.failed_partition = row.failed_key = None
                row.pending_key = None
            return True

    def unsent(self, log_ids: Sequence[str], at: datetime) -> None:
        with self._db.lock:
            for log_id in log_ids:
                row = self._db.webhook_log.get(log_id)
                if row is not None and row.status is LogStatus.ROUTED:
                    row.status, row.rank = LogStatus.RECEIVED, STATUS_RANK[LogStatus.RECEIVED]
                    row.last_at = iso(at) or ""

    def unmatched(self, phone_number_id: str, *, limit: int = 100, cursor: str | None = None) -> Page[WebhookLogEntry]:
        """The number's kept changes by log id (as the base-table partition), from after ``cursor``."""
        with self._db.lock:
            kept = sorted((log_id, e) for (number, log_id), e in self._db.kept.items() if number == phone_number_id)
        return _page_of([e for _, e in kept], [log_id for log_id, _ in kept], limit, cursor)

    def release(self, phone_number_id: str, log_id: str) -> None:
        with self._db.lock:
            self._db.kept.pop((phone_number_id, log_id), None)

    def stuck(self, before: datetime, *, limit: int, cursor: str | None = None) -> Page[WebhookLogEntry]:
        bound = f"{iso(before)}#"
        with self._db.lock:
            rows = sorted(
                (r for r in self._db.webhook_log.values() if r.pending_key is not None and r.pending_key < bound),
                key=lambda r: r.pending_key or "",
            )
            entries, keys = [_entry(r) for r in rows], [r.pending_key or "" for r in rows]
        return _page_of(entries, keys, limit, cursor)

    def redriven(self, log_id: str, at: datetime, *, next_check: datetime) -> bool:
        with self._db.lock:
            row = self._db.webhook_log.get(log_id)
            if row is None or row.status not in PENDING_STATUSES or row.pending_key is None:
                return False
            row.pending_key = f"{iso(next_check)}#{log_id}"
            row.redrives += 1
            row.last_at = iso(at) or ""
            return True

    def of_connection(
        self, connection_id: str, start: datetime, end: datetime, *, limit: int, cursor: str | None = None
    ) -> Page[WebhookLogEntry]:
        low, high = f"{iso(start)}#", f"{iso(end)}#~"
        with self._db.lock:
            rows = sorted(
                (
                    r
                    for r in self._db.webhook_log.values()
                    if r.by_connection == f"CONN#{connection_id}" and low <= r.by_connection_key <= high
                ),
                key=lambda r: r.by_connection_key,
            )
            entries, keys = [_entry(r) for r in rows], [r.by_connection_key for r in rows]
        return _page_of(entries, keys, limit, cursor)

    def mark_failed(self, log_id: str, at: datetime, error: str, *, connection_id: str, field: WebhookField) -> bool:
        with self._db.lock:
            row = self._db.webhook_log.get(log_id)
            if row is None or (row.rank >= STATUS_RANK[LogStatus.FAILED] and row.status != LogStatus.FAILED):
                return False
            row.status = LogStatus.FAILED
            row.rank = STATUS_RANK[LogStatus.FAILED]
            row.last_at = iso(at) or ""
            row.error = row.error or error
            row.unmatched_number = row.unmatched_key = None
            row.pending_key = None
            row.failed_partition = f"FAILED#{connection_id}#{field.value}"
            row.failed_key = f"{iso(at)}#{log_id}"
            return True

    def failed(self, connection_id: str, field: WebhookField) -> list[WebhookLogEntry]:
        """This connection's ``failed`` entries of ``field``, oldest first (the sparse index)."""
        with self._db.lock:
            partition = f"FAILED#{connection_id}#{field.value}"
            rows = sorted(
                (r for r in self._db.webhook_log.values() if r.failed_partition == partition),
                key=lambda r: r.failed_key or "",
            )
            return [_entry(r) for r in rows]

    def retry(self, log_id: str, at: datetime) -> bool:
        with self._db.lock:
            row = self._db.webhook_log.get(log_id)
            if row is None or row.status is not LogStatus.FAILED:
                return False
            row.status = LogStatus.ROUTED
            row.rank = STATUS_RANK[LogStatus.ROUTED]
            row.last_at = iso(at) or ""
            row.error = None
            row.failed_partition = row.failed_key = None
            row.redrives = 0
            row.pending_key = f"{iso(at)}#{log_id}"
            return True

    def attach(self, log_id: str, target: ConnectionTarget, at: datetime | None = None) -> bool:
        with self._db.lock:
            row = self._db.webhook_log.get(log_id)
            if row is None or row.status is not LogStatus.UNMATCHED:
                return False
            row.connection_id = target.connection_id
            row.organization_id = target.organization_id
            row.by_connection = f"CONN#{target.connection_id}"
            row.status = LogStatus.ROUTED
            row.rank = STATUS_RANK[LogStatus.ROUTED]
            row.error = None
            row.redrives = 0
            row.unmatched_number = row.unmatched_key = None
            if at is not None:
                row.pending_key = f"{iso(at)}#{log_id}"
            return True
