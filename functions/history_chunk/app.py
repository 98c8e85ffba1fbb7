"""SQS consumer: History chunks and media follow-ups (field ``history``)."""

from __future__ import annotations

from whatrack.sqs import consumer_handler
from whatrack.webhooks.fields import WebhookField

lambda_handler = consumer_handler(frozenset({WebhookField.HISTORY}))
