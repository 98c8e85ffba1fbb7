"""SQS consumer: App contact sync (``smb_app_state_sync``) and ``account_update``."""

from __future__ import annotations

from whatrack.sqs import consumer_handler
from whatrack.webhooks.fields import WebhookField

lambda_handler = consumer_handler(frozenset({WebhookField.STATE_SYNC, WebhookField.ACCOUNT_UPDATE}))
