"""SQS consumer: replay jobs (changes kept for a number, routed once the number is connected)."""

from __future__ import annotations

from whatrack.entrypoints.replay import replay_job_handler

lambda_handler = replay_job_handler()
