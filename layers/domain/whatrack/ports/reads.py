"""Ports of the reads."""

from __future__ import annotations

from typing import Protocol

from whatrack.domain.history import ChunkRecord
from whatrack.domain.inbox import (
    Conversation,
    Lead,
    LeadSource,
    Ticket,
)
from whatrack.domain.log import LogRecord
from whatrack.domain.messages import Message
from whatrack.domain.paging import Page


class InboxReader(Protocol):
    """The status API's read side: read models only, every list one index query (no scans)."""

    def lead(self, lead_id: str) -> Lead | None: ...

    def leads(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        source: LeadSource | None = None,
        connection_id: str | None = None,
        phone_number: str | None = None,
        by_activity: bool = False,
    ) -> Page[Lead]:
        """Newest first; ``by_activity``: latest message first, then those never messaged, newest first."""

    def conversations_of(self, lead_id: str) -> list[Conversation]: ...

    def conversation(self, conversation_id: str) -> Conversation | None: ...

    def messages(self, conversation_id: str, *, limit: int, cursor: str | None, latest: bool = False) -> Page[Message]:
        """Oldest first. ``latest``: the newest ``limit`` messages before ``cursor`` (still oldest first
        within the page); ``next_cursor`` is then the page before it."""

    def all_messages(self, conversation_id: str) -> list[Message]: ...

    def message(self, connection_id: str, message_id: str) -> Message | None:
        """One stored message by its key (a wamid, or an agent reply's ``clientMessageId``)."""

    def ticket(self, ticket_id: str) -> Ticket | None: ...

    def tickets(
        self,
        organization_id: str,
        *,
        limit: int,
        cursor: str | None,
        connection_id: str | None,
        status: str | None,
        by_activity: bool = False,
    ) -> Page[Ticket]:
        """Newest first; ``by_activity``: latest message first."""

    def logs(self, connection_id: str, *, limit: int, cursor: str | None) -> Page[LogRecord]:
        """Newest first."""

    def chunks(self, connection_id: str) -> list[ChunkRecord]:
        """Sorted by (phase, chunk order)."""
