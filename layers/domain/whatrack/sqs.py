"""SQS batch plumbing shared by the consumer functions (Powertools partial batch responses)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from whatrack.queue_messages import ChangeMessage


class ChangeRecord(SqsRecordModel):
    """An SQS record whose body is a :class:`ChangeMessage`; parsing failures fail the record."""

    body: Json[ChangeMessage]


def change_batch_processor() -> BatchProcessor:
    return BatchProcessor(event_type=EventType.SQS, model=ChangeRecord)
