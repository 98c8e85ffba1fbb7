"""SQS consumer: App contact sync (``smb_app_state_sync``) and ``account_update``."""

from __future__ import annotations

from whatrack.domain.changes import WebhookField
from whatrack.entrypoints.sqs import consumer_handler

lambda_handler = consumer_handler(frozenset({WebhookField.STATE_SYNC, WebhookField.ACCOUNT_UPDATE}))
