"""The webhook fields we route and the queue each one goes to."""

from __future__ import annotations

from enum import StrEnum


class WebhookField(StrEnum):
    HISTORY = "history"
    STATE_SYNC = "smb_app_state_sync"
    ECHOES = "smb_message_echoes"
    MESSAGES = "messages"
    ACCOUNT_UPDATE = "account_update"


class QueueName(StrEnum):
    HISTORY = "history"
    CONTACTS = "contacts"
    ECHOES = "echoes"
    LIVE_MESSAGES = "live_messages"
    ACCOUNT_UPDATES = "account_updates"


QUEUE_FOR_FIELD: dict[WebhookField, QueueName] = {
    WebhookField.HISTORY: QueueName.HISTORY,
    WebhookField.STATE_SYNC: QueueName.CONTACTS,
    WebhookField.ECHOES: QueueName.ECHOES,
    WebhookField.MESSAGES: QueueName.LIVE_MESSAGES,
    WebhookField.ACCOUNT_UPDATE: QueueName.ACCOUNT_UPDATES,
}

WHATSAPP_OBJECT = "whatsapp_business_account"
