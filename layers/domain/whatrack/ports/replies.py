"""Ports of the replies (CONTRACT §7a): each reply's state on its own message, and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from whatrack.domain.replies import Reply, ReplyJob, ReplyState


class ReplyOutbox(Protocol):
    def enqueue(self, job: ReplyJob) -> None:
        """Queue one send, in order within its conversation (raises :class:`TransientError`)."""


class ReplyStore(Protocol):
    """Each reply on its message (key: its ``clientMessageId``); every move is conditional."""

    def get(self, connection_id: str, client_message_id: str) -> Reply | None: ...

    def claim(self, connection_id: str, client_message_id: str, now: datetime, lease_until: datetime) -> Reply | None:
        """Hold a ``pending`` reply for its one send. ``None`` when there is nothing to send (it is not
        pending, or a send that held it died: then it is ``unknown``, never sent again by itself);
        :class:`ReplyHeldError` while another send holds it."""

    def settle(
        self,
        connection_id: str,
        client_message_id: str,
        state: ReplyState,
        *,
        wamid: str | None = None,
        error: dict[str, str] | None = None,
    ) -> bool:
        """``pending`` → ``state`` (with Meta's wamid, or the reason); False if it was not pending."""

    def release(self, connection_id: str, client_message_id: str, error: dict[str, str]) -> bool:
        """A send that may heal failed: still ``pending``, free for the next attempt, with its error."""

    def apply_status(
        self, connection_id: str, client_message_id: str, wamid: str, status: str, error: str | None
    ) -> bool:
        """A status webhook about the reply (``biz_opaque_callback_data``): its wamid when not known yet
        (an ``unknown`` reply resolved), and the status, only forward. True when the reply is ours
        (applied, or older than what it shows); False when there is no such reply."""

    def stale(self, connection_id: str, before: datetime, limit: int = 100) -> list[Reply]:
        """Replies still ``pending`` that were accepted (or queued again) before ``before``."""

    def requeued(self, connection_id: str, client_message_id: str, now: datetime) -> bool:
        """A sweep queued it again: listed anew from ``now``; False when it is not pending any more."""


class SendPacer(Protocol):
    """Meta's throughput per number (:mod:`whatrack.domain.pacing`), shared by every send of it."""

    def reserve(self, phone_number_id: str, now: float) -> float | None:
        """Take the number's next free slot: its start (epoch seconds, from ``now`` to ``now`` plus the
        pace's ``max_wait``); ``None`` when it is further ahead (nothing taken: ask again later)."""

    def next_free(self, phone_number_id: str, now: float) -> float:
        """Where the number's next free slot starts (a read: nothing taken)."""
