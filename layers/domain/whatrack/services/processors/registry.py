"""Which processor handles which field, and which fields react to their dead letters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from whatrack.domain.changes import WebhookField
from whatrack.services.processors.account_updates import AccountUpdatesProcessor
from whatrack.services.processors.contacts import ContactsProcessor, no_deadline
from whatrack.services.processors.dead_letters import HistoryDeadLetter
from whatrack.services.processors.echoes import EchoesProcessor
from whatrack.services.processors.history import HistoryProcessor
from whatrack.services.processors.messages import MessagesProcessor

if TYPE_CHECKING:
    from whatrack.services.processors.base import ChangeProcessor, DeadLetterHook, InboxPorts


@dataclass(frozen=True)
class Registry:
    processors: dict[WebhookField, ChangeProcessor]
    dead_letter_hooks: dict[WebhookField, DeadLetterHook]


def build_registry(ports: InboxPorts, *, remaining_ms: Callable[[], int | None] = no_deadline) -> Registry:
    """Every routed field's processor, wired to ``ports``; ``remaining_ms``: the invocation's time left."""
    return Registry(
        processors={
            WebhookField.HISTORY: HistoryProcessor(ports),
            WebhookField.STATE_SYNC: ContactsProcessor(ports, remaining_ms=remaining_ms),
            WebhookField.ECHOES: EchoesProcessor(ports),
            WebhookField.MESSAGES: MessagesProcessor(ports),
            WebhookField.ACCOUNT_UPDATE: AccountUpdatesProcessor(ports),
        },
        dead_letter_hooks={WebhookField.HISTORY: HistoryDeadLetter(ports)},
    )
