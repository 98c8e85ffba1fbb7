"""Full-path harness: a signed body through webhook_ingest, then the queues pumped through their
consumers exactly like the local stack's event-source emulation (one poll at a time, in-process)."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3

from devstack.provision import Provisioned
from devstack.runtime import LambdaContext, load_functions
from devstack.sqs_poller import QueuePoller, build_pollers
from functions.status_api import app as status_app
from functions.webhook_ingest import app as ingest_app
from tests.builders.events import http_event, meta_bytes, signed_post
from whatrack.domain.messages import shown_status

PNID = "209988776655443"
BIZ = "5491155550100"
ADMIN = {"authorization": "Bearer local-admin-key"}


class Onboarding:
    def __init__(self, aws: Provisioned) -> None:
        self.aws = aws
        self.functions = load_functions(aws.template)
        self.pollers: list[QueuePoller] = build_pollers(
            aws.template, aws, self.functions, boto3.client("sqs"), threading.Event()
        )
        self.api_key = ""
        self.connection: dict[str, Any] = {}

    # ------------------------------------------------------------------ API
    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        raw = None if body is None else json.dumps(body).encode()
        headers = {"authorization": f"Bearer {self.api_key}", **(headers or {})}
        path, _, query = path.partition("?")
        result = status_app.lambda_handler(
            http_event(method, path, body=raw, headers=headers, query=query), LambdaContext("s", 512, 20)
        )
        return result["statusCode"], json.loads(result["body"])

    def connect_organization(self) -> str:
        """Create the organization (once) and keep its API key."""
        if not self.api_key:
            raw = json.dumps({"name": "Acme"}).encode()
            created = status_app.lambda_handler(
                http_event("POST", "/admin/organizations", body=raw, headers=ADMIN), LambdaContext("s", 512, 20)
            )
            self.api_key = json.loads(created["body"])["apiKey"]
        return self.api_key

    def connect(self, phone_number_id: str = PNID, display: str = BIZ, **extra: Any) -> dict[str, Any]:
        self.connect_organization()
        body = {
            "phoneNumberId": phone_number_id,
            "wabaId": "401122334455667",
            "displayPhoneNumber": display,
            "mode": "coexistence",
            "syncHistory": True,
            **extra,
        }
        status, created_connection = self.api("POST", "/connections", body)
        assert status == 201, created_connection
        self.connection = created_connection["connection"]
        return self.connection

    def state(self) -> dict[str, Any]:
        status, body = self.api("GET", f"/connections/{self.connection['id']}")
        assert status == 200
        return dict(body["connection"])

    # ------------------------------------------------------------------ delivery
    def post(self, document: Any) -> int:
        result = ingest_app.lambda_handler(signed_post(document), LambdaContext("ingest", 1024, 20))
        return int(result["statusCode"])

    def deliver(self, *documents: Any) -> None:
        for document in documents:
            assert self.post(document) == 200
        self.pump()

    def pump(self, rounds: int = 20) -> None:
        """Poll every queue until all are empty (failed records stay for their visibility timeout)."""
        for _ in range(rounds):
            if sum(poller.poll_once() for poller in self.pollers) == 0:
                return
        raise AssertionError("queues did not drain")

    # ------------------------------------------------------------------ raw state (reads for assertions)
    def items(self, prefix: str) -> list[dict[str, Any]]:
        table = boto3.resource("dynamodb").Table(self.aws.tables["InboxTable"])
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = table.scan(**kwargs)
            found += [i for i in page["Items"] if str(i["pk"]).startswith(prefix)]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def messages(self) -> dict[str, dict[str, Any]]:
        """Stored messages by wamid (a stub holding statuses that overtook its message is none), with
        ``status`` and ``error`` as shown: the higher of the message's own and Meta's latest delivery status."""
        found: dict[str, dict[str, Any]] = {}
        for item in self.items("MSG#"):
            if "conversation_id" in item:
                status, error = shown_status(
                    item.get("status"), item.get("error"), item.get("delivery_status"), item.get("delivery_error")
                )
                found[str(item["id"])] = {**item, "status": status, "error": error}
        return found

    def leads(self) -> list[dict[str, Any]]:
        return self.items("LEAD#")

    def tickets(self) -> list[dict[str, Any]]:
        return self.items("TICKET#")

    def log_entries(self) -> list[dict[str, Any]]:
        table = boto3.resource("dynamodb").Table(self.aws.tables["LogTable"])
        return list(table.scan()["Items"])


__all__ = ["BIZ", "PNID", "Onboarding", "meta_bytes"]
