"""SQS consumer: media downloads (every file Meta announces, kept in our bucket before Meta forgets it)."""

from __future__ import annotations

from whatrack.entrypoints.media import media_job_handler

lambda_handler = media_job_handler()
