"""Replies in memory: the outbox's jobs, and each reply's state on the fakes' message rows (as the
DynamoDB adapter keeps it on the message's item)."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime

from tests.fakes.database import InMemoryDatabase, MessageRow
from whatrack.domain.messages import STATUS_RANK
from whatrack.domain.pacing import Pace, slot_start
from whatrack.domain.replies import Reply, ReplyHeldError, ReplyJob, ReplyState, request_of


@dataclass
class RecordingOutbox:
    """:class:`whatrack.ports.replies.ReplyOutbox`: the jobs queued, in order."""

    jobs: list[ReplyJob] = field(default_factory=list)

    def enqueue(self, job: ReplyJob) -> None:
        self.jobs.append(job)

    def take(self) -> list[ReplyJob]:
        taken, self.jobs = self.jobs, []
        return taken


@dataclass
class InMemoryReplyStore:
    """:class:`whatrack.ports.replies.ReplyStore` on the message rows."""

    db: InMemoryDatabase

    def _row(self, connection_id: str, client_message_id: str) -> MessageRow | None:
        row = self.db.messages.get((connection_id, client_message_id))
        return row if row is not None and row.stored and row.reply is not None else None

    @staticmethod
    def _reply(row: MessageRow) -> Reply | None:
        if row.reply is None or row.status not in ReplyState._value2member_map_:
            return None
        assert row.organization_id is not None and row.conversation_id is not None
        return Reply(
            client_message_id=row.wamid,
            connection_id=row.connection_id,
            organization_id=row.organization_id,
            conversation_id=row.conversation_id,
            request=request_of(row.reply, row.body, row.reply_to_id),
            state=ReplyState(row.status),
            wamid=row.reply_wamid,
            reply_to_wamid=row.reply_to_id,
            error=row.reply.get("error"),
            extra={"to": row.reply.get("to")},
        )

    def get(self, connection_id: str, client_message_id: str) -> Reply | None:
        with self.db.lock:
            row = self._row(connection_id, client_message_id)
            return self._reply(row) if row is not None else None

    def claim(self, connection_id: str, client_message_id: str, now: datetime, lease_until: datetime) -> Reply | None:
        with self.db.lock:
            row = self._row(connection_id, client_message_id)
            if row is None or row.status != ReplyState.PENDING.value:
                return None
            if row.send_lease is not None:
                if row.send_lease >= now:
                    raise ReplyHeldError(f"held until {row.send_lease}")
                row.status, row.send_lease = ReplyState.UNKNOWN.value, None  # a send died: perhaps sent
                row.reply_listed = None
                return None
            row.send_lease = lease_until
            return self._reply(row)

    def settle(
        self,
        connection_id: str,
        client_message_id: str,
        state: ReplyState,
        *,
        wamid: str | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        with self.db.lock:
            row = self._row(connection_id, client_message_id)
            if row is None or row.status != ReplyState.PENDING.value or row.reply is None:
                return False
            row.status, row.status_rank, row.send_lease = state.value, STATUS_RANK[state.value], None
            row.reply_listed = None
            row.reply = {**row.reply, "error": copy.deepcopy(error)}
            row.reply_wamid = row.reply_wamid or wamid
            return True

    def release(self, connection_id: str, client_message_id: str, error: dict[str, str]) -> bool:
        with self.db.lock:
            row = self._row(connection_id, client_message_id)
            if row is None or row.status != ReplyState.PENDING.value or row.reply is None:
                return False
            row.send_lease = None
            row.reply = {**row.reply, "error": copy.deepcopy(error)}
            return True

    def apply_status(
        self, connection_id: str, client_message_id: str, wamid: str, status: str, error: str | None
    ) -> bool:
        with self.db.lock:
            row = self._row(connection_id, client_message_id)
            if row is None:
                return False
            row.reply_wamid = row.reply_wamid or wamid
            rank = STATUS_RANK.get(status)
            if rank is None or (row.delivery_rank is not None and row.delivery_rank >= rank):
                return True  # ours, and older than what it shows
            row.delivery_status, row.delivery_rank = status, rank
            if error:
                row.delivery_error = error
            return True

    def stale(self, connection_id: str, before: datetime, limit: int = 100) -> list[Reply]:
        with self.db.lock:
            rows = [
                row
                for (conn, _), row in self.db.messages.items()
                if conn == connection_id
                and row.stored
                and row.reply is not None
                and row.status == ReplyState.PENDING.value
                and (row.reply_listed or row.timestamp) is not None
                and (row.reply_listed or row.timestamp) < before  # type: ignore[operator]
            ]
            rows.sort(key=lambda r: (r.reply_listed or r.timestamp, r.wamid))  # type: ignore[arg-type,return-value]
            return [reply for row in rows[:limit] if (reply := self._reply(row)) is not None]

    def requeued(self, connection_id: str, client_message_id: str, now: datetime) -> bool:
        with self.db.lock:
            row = self._row(connection_id, client_message_id)
            if row is None or row.status != ReplyState.PENDING.value:
                return False
            row.reply_listed = now
            return True


class InMemorySendPacer:
    """:class:`whatrack.ports.replies.SendPacer` in memory: the same slots as the DynamoDB pacer."""

    def __init__(self, pace: Pace) -> None:
        self._pace = pace
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, phone_number_id: str, now: float) -> float | None:
        with self._lock:
            start = slot_start(self._tat.get(phone_number_id), now)
            if start > now + self._pace.max_wait:
                return None
            self._tat[phone_number_id] = start + self._pace.interval
            return start

    def next_free(self, phone_number_id: str, now: float) -> float:
        with self._lock:
            return slot_start(self._tat.get(phone_number_id), now)
