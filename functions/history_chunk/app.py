"""SQS consumer: History chunks and media follow-ups (field ``history``)."""

from __future__ import annotations

from whatrack.domain.changes import WebhookField
from whatrack.entrypoints.sqs import consumer_handler

lambda_handler = consumer_handler(frozenset({WebhookField.HISTORY}))
