"""SQS consumer: Business App echoes (field ``smb_message_echoes``)."""

from __future__ import annotations

from whatrack.sqs import consumer_handler
from whatrack.webhooks.fields import WebhookField

lambda_handler = consumer_handler(frozenset({WebhookField.ECHOES}))
