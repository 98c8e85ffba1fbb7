"""Per-field processors of routed changes.

The import rules (CONTRACT §8) are the import-pipeline issue's work; until then each processor
accepts the change (so it leaves the queue) and logs what it received, and the change stays
re-playable from the archive via its webhook-log entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from whatrack.webhooks.fields import WebhookField

if TYPE_CHECKING:
    from whatrack.consumer import ChangeProcessor
    from whatrack.queue_messages import ChangeMessage

logger = Logger(child=True)


def _accept(message: ChangeMessage, value: dict[str, Any]) -> None:
    logger.info(
        "change accepted",
        extra={"field": message.field.value, "connection_id": message.connection_id, "keys": sorted(value)},
    )


process_history = _accept
process_state_sync = _accept
process_echoes = _accept
process_messages = _accept
process_account_update = _accept

PROCESSORS: dict[WebhookField, ChangeProcessor] = {
    WebhookField.HISTORY: process_history,
    WebhookField.STATE_SYNC: process_state_sync,
    WebhookField.ECHOES: process_echoes,
    WebhookField.MESSAGES: process_messages,
    WebhookField.ACCOUNT_UPDATE: process_account_update,
}
