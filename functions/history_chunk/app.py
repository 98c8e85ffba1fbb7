"""SQS consumer: History chunks and media follow-ups (field history)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from whatrack import bootstrap
from whatrack.sqs import ChangeRecord, change_batch_processor
from whatrack.webhooks.fields import WebhookField

logger = Logger()
tracer = Tracer()
processor = change_batch_processor()
HANDLES = frozenset({WebhookField.HISTORY})


def record_handler(record: ChangeRecord) -> None:
    bootstrap.change_consumer().consume(record.body, expected=HANDLES)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
