"""The media function's Lambda handler: one SQS record = one :class:`MediaJob`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack.domain.media import MediaJob
from whatrack.entrypoints.batches import QueueRecord
from whatrack.entrypoints.jobs import job_handler
from whatrack.wiring import media


def media_job_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The media queue and its dead-letter queue: a download that may heal is retried with the queue's
    backoff, then dead-lettered; a dead letter settles its file ``failed`` with the last error
    (retryable from the dashboard)."""

    def fetch(record: QueueRecord[MediaJob]) -> None:
        media.fetcher().fetch(record.body)

    return job_handler(
        MediaJob.decode,
        is_dead_letter=lambda arn: media.settings().is_dead_letter_queue(arn),
        work=fetch,
        give_up=lambda job: media.fetcher().give_up(job),
        dead_lettered="media download dead-lettered: the file is failed, retryable",
        dead_lettered_metric="MediaDeadLettered",
        failed_metric="MediaAttemptsFailed",
    )
