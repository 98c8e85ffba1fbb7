"""Secrets and personal data stay out of logs and traces, through the real handlers."""

from __future__ import annotations

import ast
import inspect
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Tracer

from devstack.provision import Provisioned
from devstack.runtime import LambdaContext
from functions.status_api import app as status_app
from functions.webhook_ingest import app as ingest_app
from tests.builders import payloads as b
from tests.builders.events import http_event, signed_post
from tests.conftest import ROOT
from tests.integration.harness import Onboarding
from whatrack.entrypoints.observability import FunctionTracer


class RecordingSubsegment:
    def __init__(self, sink: list[Any]) -> None:
        self._sink = sink

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._sink.append((key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        self._sink.append((key, value))

    def add_exception(self, exception: BaseException, stack: Any = None, remote: bool = False) -> None:
        self._sink.append(("exception", str(exception)))


class RecordingProvider:
    """What X-Ray would receive from Powertools' tracer."""

    def __init__(self) -> None:
        self.recorded: list[Any] = []

    @contextmanager
    def in_subsegment(self, name: str, **_kwargs: Any) -> Iterator[RecordingSubsegment]:
        self.recorded.append(("subsegment", name))
        yield RecordingSubsegment(self.recorded)


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every line the functions' (shared) Powertools logger writes."""
    stream = io.StringIO()
    handler = status_app.logger.registered_handler  # one Powertools logger per service, shared by all
    assert isinstance(handler, logging.StreamHandler)
    handlers = [handler]
    saved = [h.stream for h in handlers]
    for handler in handlers:
        handler.setStream(stream)
    try:
        yield stream
    finally:
        for handler, original in zip(handlers, saved, strict=True):
            handler.setStream(original)


def test_the_one_time_api_key_never_reaches_a_log_or_a_trace(aws: Provisioned, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given tracing on (a recorder in place of X-Ray), the logs captured, and event logging on, as an
    # operator may turn it on (POWERTOOLS_LOGGER_LOG_EVENT): the admin key is in the request headers
    provider = RecordingProvider()
    tracer = Tracer()  # what function_tracer() wraps in Lambda with tracing active
    monkeypatch.setattr(tracer, "provider", provider)
    raw_handler = inspect.unwrap(status_app.lambda_handler)  # tracing is off here: only the logger wraps it
    traced = FunctionTracer(tracer).capture_lambda_handler(capture_response=False)(raw_handler)
    logged_handler = status_app.logger.inject_lambda_context(log_event=True)(traced)
    with captured_logs() as logs:
        # When an organization is created (its API key is in the response body, once), then the new
        # key is used on a route that fails and logs it
        raw = json.dumps({"name": "Acme"}).encode()
        admin = {"authorization": "Bearer local-admin-key"}
        result = logged_handler(
            http_event("POST", "/admin/organizations", body=raw, headers=admin), LambdaContext("status", 512, 20)
        )
        api_key = json.loads(result["body"])["apiKey"]
        body = json.dumps(
            {"phoneNumberId": "209988776655443", "wabaId": "401", "mode": "coexistence", "accessToken": "EAAG-x"}
        )
        failed = logged_handler(
            http_event("POST", "/connections", body=body.encode(), headers={"authorization": f"Bearer {api_key}"}),
            LambdaContext("status", 512, 20),
        )
    # Then the keys and the token are in no trace and no log line, though both were written
    text = logs.getvalue()
    assert (result["statusCode"], failed["statusCode"]) == (201, 422) and provider.recorded
    assert '"event"' in text or "headers" in text, "the events were logged"
    for secret in (api_key, "local-admin-key", "EAAG-x"):
        assert secret not in repr(provider.recorded) and secret not in text, secret


def test_customer_numbers_and_bodies_stay_out_of_the_ingest_and_consumer_logs(aws: Provisioned) -> None:
    # Given a connection, When a customer's message is received and consumed with logs captured
    ob = Onboarding(aws)
    ob.connect()
    with captured_logs() as logs:
        ob.deliver(b.live("wamid.PII", "5491166660001", 1751400000, body="meu endereço é Rua X 123"))
    # Then the logs tell the story without the number or the body
    text = logs.getvalue()
    assert "webhook ingested" in text and "change received" in text
    assert "5491166660001" not in text and "Rua X" not in text


def test_the_ingest_request_id_follows_the_change_to_its_rows(aws: Provisioned) -> None:
    # Given a connection, When a live message arrives through API Gateway (request id "event-request")
    ob = Onboarding(aws)
    ob.connect()
    assert (
        ingest_app.lambda_handler(
            signed_post(b.live("wamid.CID", "5491166660002", 1751400000)), LambdaContext("i", 1024, 20)
        )["statusCode"]
        == 200
    )
    ob.pump()
    # Then the lead, the message and the ticket it produced carry that id
    table = boto3.resource("dynamodb").Table(aws.tables["InboxTable"])
    rows = [i for i in table.scan()["Items"] if str(i["pk"]).startswith(("LEAD#", "MSG#", "TICKET#"))]
    assert len(rows) == 3 and {r.get("correlation_id") for r in rows} == {"event-request"}


def test_every_handler_keeps_responses_out_of_traces() -> None:
    # The template turns response and error capture off for every function...
    template = (ROOT / "template.yaml").read_text()
    assert 'POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false"' in template
    assert 'POWERTOOLS_TRACER_CAPTURE_ERROR: "false"' in template
    # ...and every traced handler says so itself, so it holds wherever it runs
    traced = 0
    for path in [*(ROOT / "functions").glob("*/app.py"), ROOT / "layers/domain/whatrack/entrypoints/sqs.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "capture_lambda_handler":
                traced += 1
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "capture_lambda_handler":
                keywords = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                assert keywords.get("capture_response") is False, path
    assert traced >= 4
