"""Ready events for every function (API Gateway HTTP API v2, SQS) and the files under ``events/``.

Ingest events carry bodies signed with the documented local app secret (``local-app-secret``), so
``sam local invoke WebhookIngestFunction -e events/webhook_ingest/post_history_chunk.json`` works
against a stack configured with that secret.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from tests.builders.samples import SAMPLES, WABA, demo_onboarding
from whatrack.domain.media import MediaJob
from whatrack.webhooks.signature import sign

EVENTS = Path(__file__).resolve().parent.parent.parent / "events"
LOCAL_APP_SECRET = "local-app-secret"


def meta_bytes(sample: Any) -> bytes:
    """Bytes as Meta sends them: compact JSON with non-ASCII escaped as \\uXXXX."""
    return json.dumps(sample, ensure_ascii=True, separators=(",", ":")).encode()


def http_event(
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    base64_body: bool = False,
) -> dict[str, Any]:
    params = dict(parse_qsl(query, keep_blank_values=True)) if query else None
    text = None if body is None else (base64.b64encode(body).decode() if base64_body else body.decode())
    route_key = f"{method} {path}" if path == "/webhook" else "ANY /{proxy+}"
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "localhost:3000", **(headers or {})},
        "queryStringParameters": params,
        "pathParameters": None if path == "/webhook" else {"proxy": path.lstrip("/")},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "facebookexternalua",
            },
            "requestId": "event-request",
            "routeKey": route_key,
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795780800000,
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def signed_post(sample: Any, *, base64_body: bool = False) -> dict[str, Any]:
    raw = meta_bytes(sample)
    return http_event(
        "POST",
        "/webhook",
        body=raw,
        base64_body=base64_body,
        headers={"x-hub-signature-256": sign(raw, LOCAL_APP_SECRET)},
    )


def sqs_event(field: str, sample: Any, queue: str) -> dict[str, Any]:
    value = sample["entry"][0]["changes"][0]["value"]
    body = {
        "version": 1,
        "field": field,
        "log_id": "0" * 32,
        "connection_id": "01EVENTCONNECTION000000000",
        "organization_id": "01EVENTORGANIZATION0000000",
        "archive_key": "webhooks/sha256/00/" + "0" * 64,
        "entry_index": 0,
        "change_index": 0,
        "waba_id": WABA,
        "received_at": "2026-11-25T12:00:00Z",
        "value": value,
    }
    return {
        "Records": [
            {
                "messageId": "11111111-2222-3333-4444-555555555555",
                "receiptHandle": "event-receipt-handle",
                "body": json.dumps(body, ensure_ascii=False),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795780800000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795780800001",
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
        ]
    }


def sqs_media_job(wamid: str, media_id: str) -> dict[str, Any]:
    """The media function's event: one download job, as the consumers queue it (for the connection of
    :func:`sqs_event`)."""
    job = MediaJob(
        connection_id="01EVENTCONNECTION000000000",
        organization_id="01EVENTORGANIZATION0000000",
        wamid=wamid,
        media_id=media_id,
        received_at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
    )
    event = sqs_event("messages", SAMPLES["messages_text"], "MediaQueue")
    event["Records"][0]["body"] = job.encode()
    return event


def build() -> dict[str, Any]:
    files: dict[str, Any] = {f"meta/{name}.json": sample for name, sample in SAMPLES.items()}
    files["webhook_ingest/verify.json"] = http_event(
        "GET", "/webhook", query="hub.mode=subscribe&hub.verify_token=local-verify-token&hub.challenge=1158201444"
    )
    for name in (
        "history_chunk",
        "history_declined_bare",
        "state_sync",
        "echo_text",
        "messages_text",
        "account_update_partner_removed",
    ):
        files[f"webhook_ingest/post_{name}.json"] = signed_post(SAMPLES[name])
    files["webhook_ingest/post_base64_history_chunk.json"] = signed_post(SAMPLES["history_chunk"], base64_body=True)
    files["webhook_ingest/post_unsigned.json"] = http_event(
        "POST", "/webhook", body=meta_bytes(SAMPLES["messages_text"])
    )
    admin = {"authorization": "Bearer local-admin-key"}
    files["status_api/create_organization.json"] = http_event(
        "POST", "/admin/organizations", body=b'{"name": "Acme"}', headers=admin
    )
    files["status_api/list_connections_unauthorized.json"] = http_event("GET", "/connections")
    files["status_api/openapi.json"] = http_event("GET", "/openapi.json")
    for name, document in demo_onboarding():
        files[f"demo/{name}.json"] = document
    files["history_chunk/sqs_history_chunk.json"] = sqs_event("history", SAMPLES["history_chunk"], "HistoryQueue")
    files["history_chunk/sqs_media_followup.json"] = sqs_event(
        "history", SAMPLES["history_media_followup_messages"], "HistoryQueue"
    )
    files["media_fetch/sqs_media_job.json"] = sqs_media_job("wamid.MEDIAIN1", "771234500998800")
    files["state_sync/sqs_state_sync.json"] = sqs_event("smb_app_state_sync", SAMPLES["state_sync"], "ContactsQueue")
    files["state_sync/sqs_account_update.json"] = sqs_event(
        "account_update", SAMPLES["account_update_partner_removed"], "AccountUpdatesQueue"
    )
    files["echo/sqs_echo_text.json"] = sqs_event("smb_message_echoes", SAMPLES["echo_text"], "EchoesQueue")
    files["live_message/sqs_messages_text.json"] = sqs_event("messages", SAMPLES["messages_text"], "LiveMessagesQueue")
    for name in ("messages_reaction", "messages_edit", "messages_location"):
        files[f"live_message/sqs_{name}.json"] = sqs_event("messages", SAMPLES[name], "LiveMessagesQueue")
    files["echo/sqs_echo_edit.json"] = sqs_event("smb_message_echoes", SAMPLES["echo_edit"], "EchoesQueue")
    files["history_chunk/sqs_history_chunk_fidelity.json"] = sqs_event(
        "history", SAMPLES["history_chunk_fidelity"], "HistoryQueue"
    )
    return files


def render(content: Any) -> str:
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"
