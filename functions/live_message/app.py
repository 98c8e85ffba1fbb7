"""SQS consumer: Live inbound messages, statuses and errors (field ``messages``)."""

from __future__ import annotations

from whatrack.sqs import consumer_handler
from whatrack.webhooks.fields import WebhookField

lambda_handler = consumer_handler(frozenset({WebhookField.MESSAGES}))
