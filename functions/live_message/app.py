"""SQS consumer: Live inbound messages, statuses and errors (field ``messages``)."""

from __future__ import annotations

from whatrack.domain.changes import WebhookField
from whatrack.entrypoints.sqs import consumer_handler

lambda_handler = consumer_handler(frozenset({WebhookField.MESSAGES}))
