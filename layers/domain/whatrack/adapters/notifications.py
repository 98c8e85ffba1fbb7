"""Operator notifications on SNS (the stack's alerts topic)."""

from __future__ import annotations

from typing import Any

from whatrack.adapters.aws import AWS_ERRORS, client, transient

SUBJECT_LIMIT = 100


class SnsAlertNotifier:
    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._sns = sns

    def notify(self, subject: str, message: str) -> None:
        try:
            (self._sns or client("sns")).publish(
                TopicArn=self._topic_arn, Subject=subject[:SUBJECT_LIMIT], Message=message
            )
        except AWS_ERRORS as exc:
            raise transient("alert notification", exc) from exc
