"""SQS consumer (FIFO): the replies' outbox, each accepted reply sent to Meta once, in its conversation's order."""

from __future__ import annotations

from whatrack.entrypoints.replies import reply_job_handler

lambda_handler = reply_job_handler()
