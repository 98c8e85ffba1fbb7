"""The message ``webhook_ingest`` puts on a field's queue: our own contract, strict and frozen."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from whatrack.webhooks.fields import WebhookField


class ChangeMessage(BaseModel):
    """One routed change for one connection.

    ``value`` is ``None`` when the change was too large for a queue message: the consumer then
    reads it from the archived raw body (claim check) at ``archive_key`` /
    ``entry_index`` / ``change_index``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    field: WebhookField
    log_id: str
    connection_id: str
    organization_id: str
    archive_key: str
    entry_index: int
    change_index: int
    waba_id: str | None = None
    received_at: datetime
    value: dict[str, Any] | None = None

    @property
    def by_reference(self) -> bool:
        return self.value is None
