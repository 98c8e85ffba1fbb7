"""What reaches logs and metrics: no personal data or secrets; a correlation id from ingest to rows."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from tests.builders import payloads as b
from tests.conftest import ROOT
from tests.fakes import InMemoryWorld
from whatrack.entrypoints.observability import FunctionTracer, RedactingFormatter, mask_digits, tracing_enabled

CUSTOMER = "5491166660001"
T0 = 1751400000


def formatted(message: str, **extra: object) -> dict[str, object]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter())
    log = logging.getLogger("test.observability")
    log.propagate = False
    log.handlers = [handler]
    log.warning(message, extra=extra)
    return dict(json.loads(stream.getvalue()))


def test_phone_numbers_bodies_and_secrets_never_reach_a_log_line() -> None:
    # When a line carries a customer's number in its text, a message body and tokens in its fields
    line = formatted(
        "reply to +55 11 96666-0001 failed",
        wa_id=CUSTOMER,
        body="Oi, meu CPF é 123.456.789-00",
        access_token="EAAG-secret",
        authorization="Bearer wtk_secret",
        nested={"text": "segredo", "recipient_id": CUSTOMER, "note": f"from {CUSTOMER}"},
    )
    text = json.dumps(line)
    # Then none of them is in the line, and the number is still told apart by its last digits
    for secret in ("96666", CUSTOMER, "CPF", "EAAG-secret", "wtk_secret", "segredo"):
        assert secret not in text, secret
    assert line["message"] == "reply to ***0001 failed"
    assert line["nested"] == {"text": "[redacted]", "recipient_id": "[redacted]", "note": "from ***0001"}


def test_meta_ids_dates_and_archive_keys_stay_readable() -> None:
    archive_key = "webhooks/sha256/ab/ab12345678901234cd" + "e" * 46
    line = formatted(
        "chunk of 2026-11-26 routed",
        phone_number_id="209988776655443",
        waba_id="401122334455667",
        archive_key=archive_key,
        wamid="wamid.HBgNNTQ5MTE2NjY2MDAwMRUCABIYFkFBQkJDQ0RERUVGRjAwMTEyMjMzNDQA",
    )
    assert (line["phone_number_id"], line["waba_id"], line["archive_key"]) == (
        "209988776655443",
        "401122334455667",
        archive_key,
    )
    assert line["message"] == "chunk of 2026-11-26 routed" and str(line["wamid"]).startswith("wamid.HBgN")
    assert mask_digits("1234567") == "1234567"  # too short to be a phone number


def test_the_correlation_id_of_a_delivery_reaches_every_row_it_produced() -> None:
    # Given a connection, When a live message from a new person is delivered with a correlation id
    world = InMemoryWorld()
    world.connect()
    world.post(b.live("wamid.C1", CUSTOMER, T0), correlation_id="req-abc")
    [change] = world.pump()
    # Then the queued change, the lead it created, the message and the ticket all carry it
    assert change.correlation_id == "req-abc"
    [lead] = world.all_leads()
    [ticket] = world.all_tickets()
    assert (lead.correlation_id, world.all_messages()["wamid.C1"].correlation_id, ticket.correlation_id) == (
        "req-abc",
        "req-abc",
        "req-abc",
    )


def test_consumers_count_outcomes_and_imports() -> None:
    # Given a connection, When contacts, a completing chunk, an invalid change and a dead letter arrive
    world = InMemoryWorld(clock=lambda: datetime(2026, 11, 26, 12, tzinfo=UTC))
    world.connect()
    world.deliver(
        b.contacts(("add", CUSTOMER, "Maria")),
        b.chunk(0, 1, 100, b.thread(CUSTOMER, b.text("wamid.H1", CUSTOMER, T0), b.text("wamid.H2", b.BIZ, T0 + 1))),
        b.envelope("history", {"history": [{"metadata": {"phase": "x", "chunk_order": 1, "progress": 500}}]}),
    )
    world.post(b.live("wamid.L", CUSTOMER, T0 + 9))
    world.dead_letter()
    # Then the metrics tell what happened
    totals = world.metrics.totals
    assert (totals["ChangesProcessed"], totals["ChangesRejected"], totals["ChangesDeadLettered"]) == (2, 1, 1)
    assert (totals["MessagesImported"], totals["ThreadsImported"], totals["ContactsImported"]) == (2, 1, 1)
    assert totals["HistorySyncSeconds"] == 0  # started and completed by the same chunk
    assert "HistorySyncSeconds" in totals


def test_keys_appended_by_one_invocation_never_reach_another_threads_lines() -> None:
    # Given one formatter shared by two "functions" running at once in one process (the local
    # stack), each appending its Lambda context in its own thread
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = RedactingFormatter()
    formatter.set_defaults(service="whatrack")  # as function_logger() does, at import
    handler.setFormatter(formatter)
    log = logging.getLogger("test.observability.threads")
    log.propagate = False
    log.handlers = [handler]
    appended, written = threading.Barrier(2), threading.Barrier(2)

    def invocation(name: str) -> None:
        formatter.append_keys(function_name=name, correlation_id=f"{name}-req")
        appended.wait()  # both have appended before either writes
        log.warning("hello from %s", name)
        written.wait()
        formatter.clear_state()
        log.warning("after clear in %s", name)

    threads = [threading.Thread(target=invocation, args=(n,)) for n in ("WebhookIngestFunction", "EchoFunction")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.warning("from the main thread")
    # Then every line carries the context of the thread that wrote it, and nothing else's
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    hello = {str(line["message"]).rsplit(" ", 1)[-1]: line for line in lines if "hello" in str(line["message"])}
    for name in ("WebhookIngestFunction", "EchoFunction"):
        assert (hello[name]["function_name"], hello[name]["correlation_id"]) == (name, f"{name}-req")
        assert hello[name]["service"] == "whatrack" and hello[name]["level"] == "WARNING"
    cleared = [line for line in lines if "after clear" in str(line["message"]) or "main" in str(line["message"])]
    assert len(cleared) == 3
    assert all("function_name" not in line and line["service"] == "whatrack" for line in cleared)


def test_a_thread_a_handler_starts_logs_under_the_invocations_context() -> None:
    # Given a handler that appended its Lambda context (as in Lambda: one invocation at a time)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = RedactingFormatter()
    formatter.set_defaults(service="whatrack")
    handler.setFormatter(formatter)
    log = logging.getLogger("test.observability.workers")
    log.propagate = False
    log.handlers = [handler]
    formatter.append_keys(function_name="WebhookIngestFunction", correlation_id="req-1")
    # When a worker thread it started writes a line, and the handler then removes a key
    worker = threading.Thread(target=lambda: log.warning("from a worker"))
    worker.start()
    worker.join()
    formatter.remove_keys(["correlation_id"])
    log.warning("after removal")
    # Then the worker's line carries the invocation's context, like Powertools' own formatter
    worker_line, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (worker_line["function_name"], worker_line["correlation_id"]) == ("WebhookIngestFunction", "req-1")
    assert worker_line["service"] == "whatrack"
    assert after["function_name"] == "WebhookIngestFunction" and "correlation_id" not in after


@pytest.mark.parametrize(
    ("environ", "traced"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({}, False),  # not in Lambda: no X-Ray daemon to talk to
    ],
)
def test_tracing_is_on_only_where_powertools_would_trace(environ: dict[str, str], traced: bool) -> None:
    assert tracing_enabled(environ) is traced


def test_a_handler_imported_with_tracing_off_never_imports_the_xray_sdk() -> None:
    # a fresh interpreter, as a cold start: every function of the template, tracing off
    modules = [f"functions.{name}.app" for name in ("webhook_ingest", "status_api", "live_message", "watchdog")]
    probe = f"import sys; import {', '.join(modules)}; print('aws_xray_sdk' in sys.modules)"
    env = {
        **os.environ,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'domain'}",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed probe
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert (done.returncode, done.stdout.strip()) == (0, "False"), done.stderr[-2000:]
    # and a decorated handler is the handler itself
    handler = FunctionTracer(None).capture_lambda_handler(capture_response=False)(len)
    assert handler is len
