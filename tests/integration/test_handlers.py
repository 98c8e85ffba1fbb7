"""Handlers in-process under moto with the events from events/."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from devstack.meta import MetaSimulator
from devstack.provision import Provisioned
from devstack.runtime import LambdaContext
from functions.echo import app as echo_app
from functions.history_chunk import app as history_app
from functions.live_message import app as live_app
from functions.media_fetch import app as media_app
from functions.state_sync import app as state_app
from functions.status_api import app as status_app
from functions.webhook_ingest import app as ingest_app
from tests.builders.events import http_event, meta_bytes, signed_post
from tests.builders.samples import SAMPLES
from tests.conftest import EVENTS, load_event
from whatrack.adapters.dynamo.webhook_log import DynamoWebhookLog

ADMIN = {"authorization": "Bearer local-admin-key"}


@pytest.fixture(autouse=True)
def meta(graph: MetaSimulator) -> MetaSimulator:
    """The business behind the events of ``events/``: its WABA and number, readable with its token."""
    graph.business("401122334455667", "209988776655443", token="EAAG-secret")
    return graph


def call_status(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    raw = None if body is None else json.dumps(body).encode()
    result = status_app.lambda_handler(http_event(method, path, body=raw, headers=headers), LambdaContext("s", 512, 20))
    return result["statusCode"], json.loads(result["body"])


def connect(phone_number_id: str = "209988776655443") -> tuple[str, dict[str, Any]]:
    status, created = call_status("POST", "/admin/organizations", {"name": "Acme"}, ADMIN)
    assert status == 201
    key = created["apiKey"]
    status, body = call_status(
        "POST",
        "/connections",
        {
            "phoneNumberId": phone_number_id,
            "wabaId": "401122334455667",
            "displayPhoneNumber": "5491155550100",
            "mode": "coexistence",
            "syncHistory": True,
            "accessToken": "EAAG-secret",
        },
        {"authorization": f"Bearer {key}"},
    )
    assert status == 201, body
    return key, body["connection"]


def drain(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
        "Messages", []
    )
    return messages


def test_handshake_event(aws: Provisioned, lambda_context: LambdaContext) -> None:
    result = ingest_app.lambda_handler(load_event("webhook_ingest/verify.json"), lambda_context)
    assert result["statusCode"] == 200 and result["body"] == "1158201444"
    assert result["headers"]["Content-Type"].startswith("text/plain")
    bad = http_event("GET", "/webhook", query="hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
    assert ingest_app.lambda_handler(bad, lambda_context)["statusCode"] == 403
    put = ingest_app.lambda_handler(http_event("PUT", "/webhook", body=b"{}"), lambda_context)
    assert put["statusCode"] == 405 and put["headers"]["Allow"] == "GET, POST"


def test_unsigned_event_is_401_and_nothing_is_archived(aws: Provisioned, lambda_context: LambdaContext) -> None:
    result = ingest_app.lambda_handler(load_event("webhook_ingest/post_unsigned.json"), lambda_context)
    assert result["statusCode"] == 401
    assert json.loads(result["body"])["error"]["code"] == "unauthorized"
    assert boto3.client("s3").list_objects_v2(Bucket=aws.buckets["ArchiveBucket"]).get("KeyCount") == 0


@pytest.mark.parametrize(
    "path", sorted(p.name for p in (EVENTS / "webhook_ingest").glob("post_*.json") if "unsigned" not in p.name)
)
def test_every_signed_ingest_event_is_archived_routed_and_logged(
    aws: Provisioned, lambda_context: LambdaContext, path: str
) -> None:
    _, connection = connect()
    result = ingest_app.lambda_handler(load_event(f"webhook_ingest/{path}"), lambda_context)
    assert result["statusCode"] == 200
    objects = boto3.client("s3").list_objects_v2(Bucket=aws.buckets["ArchiveBucket"])["Contents"]
    assert len(objects) == 1 and objects[0]["Key"].startswith("webhooks/sha256/")
    routed = [m for url in aws.queues.values() for m in drain(url)]
    assert len(routed) == 1
    message = json.loads(routed[0]["Body"])
    assert message["connection_id"] == connection["id"] and message["archive_key"] == objects[0]["Key"]
    entry = DynamoWebhookLog().get(message["log_id"])
    assert entry is not None and entry.status == "routed" and entry.connection_id == connection["id"]


def test_base64_body_is_verified_over_decoded_bytes(aws: Provisioned, lambda_context: LambdaContext) -> None:
    connect()
    event = load_event("webhook_ingest/post_base64_history_chunk.json")
    assert event["isBase64Encoded"] is True
    assert ingest_app.lambda_handler(event, lambda_context)["statusCode"] == 200
    [message] = drain(aws.queues["HistoryQueue"])
    assert json.loads(message["Body"])["field"] == "history"


def test_redelivery_keeps_one_archive_object_and_one_log_entry(aws: Provisioned, lambda_context: LambdaContext) -> None:
    connect()
    event = signed_post(SAMPLES["state_sync"])
    for _ in range(3):
        assert ingest_app.lambda_handler(event, lambda_context)["statusCode"] == 200
    s3 = boto3.client("s3")
    bucket = aws.buckets["ArchiveBucket"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    assert len(s3.list_object_versions(Bucket=bucket).get("Versions", [])) == 1
    log_ids = {json.loads(m["Body"])["log_id"] for m in drain(aws.queues["ContactsQueue"])}
    assert len(log_ids) == 1


def test_unmatched_change_is_logged_and_kept(aws: Provisioned, lambda_context: LambdaContext) -> None:
    result = ingest_app.lambda_handler(signed_post(SAMPLES["history_chunk"]), lambda_context)
    assert result["statusCode"] == 200
    assert all(drain(url) == [] for url in aws.queues.values())
    table = boto3.resource("dynamodb").Table(aws.tables["LogTable"])
    items = sorted(table.scan()["Items"], key=lambda i: str(i["pk"]))
    # the log entry, and the change kept for its number (a base-table item, read with ConsistentRead)
    assert [(i["kind"], i.get("status"), i["pk"].split("#")[0]) for i in items] == [
        ("webhook", "unmatched", "LOG"),
        ("kept", None, "UNMATCHED"),
    ]
    assert items[1]["pk"] == "UNMATCHED#209988776655443" and items[1]["id"] == items[0]["id"]


def test_oversized_body_is_413(aws: Provisioned, lambda_context: LambdaContext) -> None:
    raw = b" " * (10 * 1024 * 1024 + 1)
    event = http_event("POST", "/webhook", body=raw, headers={"x-hub-signature-256": "sha256=00"})
    assert ingest_app.lambda_handler(event, lambda_context)["statusCode"] == 413


def test_storage_failure_answers_5xx(aws: Provisioned, lambda_context: LambdaContext) -> None:
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket=aws.buckets["ArchiveBucket"], VersioningConfiguration={"Status": "Suspended"})
    s3.delete_bucket(Bucket=aws.buckets["ArchiveBucket"])
    result = ingest_app.lambda_handler(signed_post(SAMPLES["messages_text"]), lambda_context)
    assert result["statusCode"] == 503
    assert json.loads(result["body"])["error"]["code"] == "unavailable"


def test_queue_failure_answers_5xx(aws: Provisioned, lambda_context: LambdaContext) -> None:
    connect()
    boto3.client("sqs").delete_queue(QueueUrl=aws.queues["LiveMessagesQueue"])
    result = ingest_app.lambda_handler(signed_post(SAMPLES["messages_text"]), lambda_context)
    assert result["statusCode"] == 503


def test_large_change_goes_by_reference_and_the_consumer_reads_it_back(
    aws: Provisioned, lambda_context: LambdaContext
) -> None:
    connect()
    doc = json.loads(meta_bytes(SAMPLES["history_chunk"]))
    thread = doc["entry"][0]["changes"][0]["value"]["history"][0]["threads"][0]
    thread["messages"] = [
        dict(thread["messages"][0], id=f"wamid.BIG{i}", text={"body": "x" * 200}) for i in range(1500)
    ]
    ingest_app.lambda_handler(signed_post(doc), lambda_context)
    [message] = drain(aws.queues["HistoryQueue"])
    body = json.loads(message["Body"])
    assert body["value"] is None
    from whatrack.domain.changes import ChangeMessage
    from whatrack.wiring import consumers

    value = consumers.consumer().load_value(ChangeMessage.decode(message["Body"]))
    assert len(value["history"][0]["threads"][0]["messages"]) == 1500


@pytest.fixture
def event_connection(aws: Provisioned) -> None:
    """The connection the consumer events of events/ name (ids fixed by scripts/make_events.py)."""
    from whatrack.adapters.dynamo.connections import DynamoConnectionRepository
    from whatrack.domain.clock import utcnow
    from whatrack.domain.connections import (
        Connection,
        ConnectionMode,
        ConnectionStatus,
        HistorySyncState,
        HistorySyncStatus,
    )
    from whatrack.wiring import status_api

    status_api.api()  # binds the tables
    DynamoConnectionRepository().create(
        Connection(
            id="01EVENTCONNECTION000000000",
            organization_id="01EVENTORGANIZATION0000000",
            phone_number_id="209988776655443",
            waba_id="401122334455667",
            display_phone_number="5491155550100",
            display_name=None,
            mode=ConnectionMode.COEXISTENCE,
            sync_history=True,
            connection_status=ConnectionStatus.ACTIVE,
            created_at=utcnow(),
            history=HistorySyncState(status=HistorySyncStatus.PENDING_CONSENT),
        )
    )


@pytest.mark.usefixtures("event_connection")
@pytest.mark.parametrize(
    ("module", "event"),
    [
        (history_app, "history_chunk/sqs_history_chunk.json"),
        (state_app, "state_sync/sqs_state_sync.json"),
        (state_app, "state_sync/sqs_account_update.json"),
        (echo_app, "echo/sqs_echo_text.json"),
        (live_app, "live_message/sqs_messages_text.json"),
    ],
)
def test_consumer_events_are_accepted(aws: Provisioned, lambda_context: LambdaContext, module: Any, event: str) -> None:
    assert module.lambda_handler(load_event(event), lambda_context) == {"batchItemFailures": []}


@pytest.mark.usefixtures("event_connection")
def test_media_job_event_downloads_or_names_the_ending(aws: Provisioned, lambda_context: LambdaContext) -> None:
    """``sam local invoke MediaFetchFunction -e events/media_fetch/sqs_media_job.json`` after the
    follow-up's event: the file is claimed and settled (the event's job was announced on 2026-11-25,
    more than Meta's 7 days ago: expired, without asking Meta), and the same job again has nothing
    left to do."""
    from whatrack.adapters.dynamo.connections import DynamoConnectionRepository
    from whatrack.adapters.dynamo.media import DynamoMediaStateStore
    from whatrack.domain.media import MediaState

    followup = load_event("history_chunk/sqs_media_followup.json")
    assert history_app.lambda_handler(followup, lambda_context) == {"batchItemFailures": []}
    store = DynamoMediaStateStore()
    assert [m.wamid for m in store.listed("01EVENTCONNECTION000000000", MediaState.PENDING)] == ["wamid.MEDIAIN1"]
    job = load_event("media_fetch/sqs_media_job.json")
    assert media_app.lambda_handler(job, lambda_context) == {"batchItemFailures": []}
    assert store.listed("01EVENTCONNECTION000000000", MediaState.PENDING) == []
    counts = DynamoConnectionRepository().get("01EVENTCONNECTION000000000").media_files  # type: ignore[union-attr]
    assert (counts["expired"], counts["pending"]) == (1, 0)
    assert media_app.lambda_handler(job, lambda_context) == {"batchItemFailures": []}
    counts = DynamoConnectionRepository().get("01EVENTCONNECTION000000000").media_files  # type: ignore[union-attr]
    assert (counts["expired"], counts["pending"]) == (1, 0)


@pytest.mark.usefixtures("event_connection")
def test_consumer_reports_only_the_bad_record(aws: Provisioned, lambda_context: LambdaContext) -> None:
    event = load_event("live_message/sqs_messages_text.json")
    good = event["Records"][0]
    bad = dict(good, messageId="bad-1", body='{"not": "a change message"}')
    wrong_field = dict(good, messageId="bad-2", body=good["body"].replace('"field": "messages"', '"field": "history"'))
    result = live_app.lambda_handler({"Records": [good, bad, wrong_field]}, lambda_context)
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["bad-1", "bad-2"]


def test_status_api_events(aws: Provisioned, lambda_context: LambdaContext) -> None:
    created = status_app.lambda_handler(load_event("status_api/create_organization.json"), lambda_context)
    assert created["statusCode"] == 201
    assert json.loads(created["body"])["apiKey"].startswith("wtk_")
    unauthorized = status_app.lambda_handler(
        load_event("status_api/list_connections_unauthorized.json"), lambda_context
    )
    assert unauthorized["statusCode"] == 401
    spec = status_app.lambda_handler(load_event("status_api/openapi.json"), lambda_context)
    assert json.loads(spec["body"])["openapi"].startswith("3.")


def test_connections_api(aws: Provisioned) -> None:
    key, connection = connect()
    auth = {"authorization": f"Bearer {key}"}
    assert connection["historySync"]["status"] == "pending_consent"
    assert connection["createdAt"].endswith("Z") and connection["historySync"]["startedAt"] is None
    assert connection["historySync"]["statusLabel"] == "Aguardando consentimento"
    assert "accessToken" not in json.dumps(connection)
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=f"whatrack-local/connections/{connection['id']}")
    assert secret["SecretString"] == "EAAG-secret"
    status, listed = call_status("GET", "/connections", headers=auth)
    assert status == 200 and [c["id"] for c in listed["connections"]] == [connection["id"]]
    status, one = call_status("GET", f"/connections/{connection['id']}", headers=auth)
    assert status == 200 and one["connection"] == connection
    # another organization: 409 on the same number, 404 on the connection, empty list
    _, other = call_status("POST", "/admin/organizations", {"name": "Other"}, ADMIN)
    other_auth = {"authorization": f"Bearer {other['apiKey']}"}
    status, conflict = call_status(
        "POST", "/connections", {"phoneNumberId": "209988776655443", "wabaId": "401", "mode": "cloud_api"}, other_auth
    )
    assert status == 409 and conflict["error"]["code"] == "phone_number_already_connected"
    assert call_status("GET", f"/connections/{connection['id']}", headers=other_auth)[0] == 404
    assert call_status("GET", "/connections", headers=other_auth) == (200, {"connections": []})
    assert call_status("GET", "/connections/does-not-exist", headers=auth)[0] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"wabaId": "1", "mode": "coexistence"},
        {"phoneNumberId": "1234", "wabaId": "1", "mode": "whatsapp"},
        {"phoneNumberId": "abc", "wabaId": "1", "mode": "cloud_api"},
        [1, 2],
    ],
)
def test_bad_connection_input_is_400(aws: Provisioned, body: Any) -> None:
    key, _ = connect()
    status, error = call_status("POST", "/connections", body, {"authorization": f"Bearer {key}"})
    assert status == 400 and error["error"]["code"] == "invalid_input"


def test_admin_endpoint_requires_the_admin_key(aws: Provisioned) -> None:
    assert call_status("POST", "/admin/organizations", {"name": "x"})[0] == 401
    assert call_status("POST", "/admin/organizations", {"name": "x"}, {"authorization": "Bearer nope"})[0] == 401
    assert call_status("POST", "/admin/organizations", {"name": ""}, ADMIN)[0] == 400
    assert call_status("DELETE", "/connections", headers=ADMIN)[0] == 405
    assert call_status("GET", "/nothing-here", headers=ADMIN)[0] == 404
