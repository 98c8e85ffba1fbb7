"""The onboarding loop through the handlers under moto, Meta faked over HTTP on 127.0.0.1:
connect with a token, Embedded Signup, sync requests, refresh, reconnect, retry, the watchdog."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from devstack.meta import MetaSimulator, meta_error
from devstack.provision import Provisioned
from devstack.runtime import LambdaContext
from functions.watchdog import app as watchdog_app
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack import wiring

TOKEN = "EAAG-business-token"


@pytest.fixture
def ob(aws: Provisioned, graph: MetaSimulator) -> Onboarding:
    graph.business(b.WABA, b.PNID, token=TOKEN, code="code-ok")
    return Onboarding(aws)


def connect_with_token(ob: Onboarding, **extra: Any) -> tuple[int, dict[str, Any]]:
    ob.connect_organization()
    body = {
        "phoneNumberId": b.PNID,
        "wabaId": b.WABA,
        "displayPhoneNumber": b.BIZ,
        "mode": "coexistence",
        "syncHistory": True,
        "accessToken": TOKEN,
        **extra,
    }
    return ob.api("POST", "/connections", body)


def test_connecting_with_a_token_verifies_and_requests_contacts_then_history(
    ob: Onboarding, graph: MetaSimulator
) -> None:
    # When a coexistence number is connected with its business token
    status, body = connect_with_token(ob)
    # Then the card is verified and shows both requests accepted, in Meta's order
    assert status == 201, body
    card = body["connection"]
    assert card["verified"] is True
    assert [(r["syncType"], r["outcome"], r["requestId"]) for r in card["historySync"]["requests"]] == [
        ("smb_app_state_sync", "accepted", "req-1"),
        ("history", "accepted", "req-2"),
    ]
    assert graph.sync_requests == [(b.PNID, "smb_app_state_sync"), (b.PNID, "history")]
    # and a second request is refused without asking Meta
    ob.connection = card
    status, refused = ob.api("POST", f"/connections/{card['id']}/history-sync/request")
    assert (status, refused["error"]["code"]) == (409, "already_requested")
    assert len(graph.sync_requests) == 2
    events = {e.get("event") for e in ob.log_entries() if e["kind"] == "audit"}
    assert "sync_requested" in events


def test_a_number_the_token_cannot_read_is_422_and_a_graph_outage_502(ob: Onboarding, graph: MetaSimulator) -> None:
    status, body = connect_with_token(ob, phoneNumberId="123456789")
    assert (status, body["error"]["code"]) == (422, "number_not_owned")
    graph.fail_next("phone_numbers", *[meta_error("Service unavailable", 2, 503)] * 3)
    status, body = connect_with_token(ob)
    assert (status, body["error"]["code"]) == (502, "graph_error") and "(#2)" in body["error"]["message"]
    status, listed = ob.api("GET", "/connections")
    assert listed["connections"] == []


def test_the_explicit_request_after_a_failure_and_its_refusals(ob: Onboarding, graph: MetaSimulator) -> None:
    # Given a connection whose automatic contacts request Meta failed (a POST is tried once)
    graph.fail_next("smb_app_data", meta_error("An unknown error occurred", 1, 500))
    status, body = connect_with_token(ob)
    connection = body["connection"]
    assert status == 201 and connection["historySync"]["requests"][0]["outcome"] == "failed"
    assert connection["historySync"]["requests"][0]["error"] == {"code": "1", "message": "An unknown error occurred"}
    # When the business asks again
    status, accepted = ob.api("POST", f"/connections/{connection['id']}/history-sync/request")
    # Then both requests are made now: 202 with their ids
    assert status == 202
    assert [(r["syncType"], r["requestId"]) for r in accepted["requests"]] == [
        ("smb_app_state_sync", "req-1"),
        ("history", "req-2"),
    ]


def test_a_connection_without_a_token_cannot_request(ob: Onboarding) -> None:
    connection = ob.connect()
    status, body = ob.api("POST", f"/connections/{connection['id']}/history-sync/request")
    assert (status, body["error"]["code"]) == (422, "no_access_token")


def test_embedded_signup_connects_the_wabas_number(ob: Onboarding, graph: MetaSimulator) -> None:
    ob.connect_organization()
    status, body = ob.api(
        "POST", "/connections/embedded-signup", {"code": "code-ok", "wabaId": b.WABA, "syncHistory": True}
    )
    assert status == 201, body
    card = body["connection"]
    assert (card["phoneNumberId"], card["verified"], card["displayName"]) == (b.PNID, True, "Loja Centro")
    assert len(card["historySync"]["requests"]) == 2
    status, body = ob.api("POST", "/connections/embedded-signup", {"code": "code-ok", "wabaId": b.WABA})
    assert (status, body["error"]["code"]) == (422, "code_exchange_failed")


def test_refresh_disconnect_and_reconnect_by_the_same_organization(ob: Onboarding, graph: MetaSimulator) -> None:
    # Given a verified connection whose number left the Business App
    _, body = connect_with_token(ob)
    ob.connection = body["connection"]
    graph.states[b.PNID] = {"is_on_biz_app": False, "platform_type": "CLOUD_API"}
    # When the business refreshes the card
    status, refreshed = ob.api("POST", f"/connections/{ob.connection['id']}/refresh")
    # Then it is disconnected
    assert (status, refreshed["connection"]["connectionStatus"]) == (200, "disconnected")
    # When Meta is unsure, the card does not change
    graph.fail_next("number_state", *[meta_error("Service unavailable", 2, 503)] * 3)
    assert ob.api("POST", f"/connections/{ob.connection['id']}/refresh")[0] == 502
    # When the same organization connects the number again
    graph.states[b.PNID] = {"is_on_biz_app": True, "platform_type": "CLOUD_API"}
    status, again = ob.api(
        "POST",
        "/connections",
        {"phoneNumberId": b.PNID, "wabaId": b.WABA, "mode": "coexistence", "syncHistory": True, "accessToken": TOKEN},
    )
    # Then it gets the same card back (200), active
    assert status == 200, again
    assert (again["connection"]["id"], again["connection"]["connectionStatus"]) == (ob.connection["id"], "active")


def test_failed_chunks_are_retried_from_the_archive(ob: Onboarding, aws: Provisioned) -> None:
    # Given a history change that kept failing and was dead-lettered
    ob.connect()
    ob.post(b.chunk(1, 7, 70, b.thread("5491166660001", b.text("wamid.F", "5491166660001", 1751400000))))
    sqs = boto3.client("sqs")
    [routed] = sqs.receive_message(QueueUrl=aws.queues["HistoryQueue"])["Messages"]
    sqs.delete_message(QueueUrl=aws.queues["HistoryQueue"], ReceiptHandle=routed["ReceiptHandle"])
    sqs.send_message(QueueUrl=aws.queues["HistoryDeadLetterQueue"], MessageBody=routed["Body"])
    ob.pump()
    assert ob.state()["historySync"]["status"] == "failed"
    # When the business retries
    status, body = ob.api("POST", f"/connections/{ob.connection['id']}/history-sync/retry")
    ob.pump()
    # Then the change went through from the archive and the sync left "failed"
    assert (status, body) == (202, {"retried": 1})
    assert "wamid.F" in ob.messages()
    state = ob.state()["historySync"]
    assert (state["status"], state["messagesImported"], state["error"]) == ("syncing", 1, None)
    assert ob.api("POST", f"/connections/{ob.connection['id']}/history-sync/retry")[1] == {"retried": 0}


def test_the_watchdog_alerts_a_connection_that_never_receives_history(
    ob: Onboarding, aws: Provisioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a connection created 40 minutes ago that never received history, and a subscriber to alerts
    connection = ob.connect()
    created = (datetime.now(UTC) - timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    boto3.client("dynamodb").update_item(
        TableName=aws.tables["AccountsTable"],
        Key={"pk": {"S": f"CONN#{connection['id']}"}, "sk": {"S": "CONN"}},
        UpdateExpression="SET created_at = :c",
        ExpressionAttributeValues={":c": {"S": created}},
    )
    sqs = boto3.client("sqs")
    inbox = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=aws.topics["AlertsTopic"], Protocol="sqs", Endpoint=inbox_arn)
    # When the scheduled watchdog runs (twice: the second round changes nothing)
    context = LambdaContext("watchdog", 512, 120)
    first = watchdog_app.lambda_handler({"source": "aws.events"}, context)
    second = watchdog_app.lambda_handler({"source": "aws.events"}, context)
    # Then one alert was raised: on the card, in the logs, and on the topic
    assert (first["raised"], second["raised"]) == (1, 0)
    assert ob.state()["historySync"]["alert"]["code"] == "no_history_received"
    audit = [e for e in ob.log_entries() if e.get("event") == "alert_raised"]
    assert [e["status"] for e in audit] == ["no_history_received"]
    [notification] = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(notification["Body"])["Subject"].startswith("WhaTrack: no_history_received")


def test_the_template_picker_lists_the_wabas_approved_templates(ob: Onboarding, graph: MetaSimulator) -> None:
    graph.template(b.WABA, "retomar_contato", body="Olá {{1}}! Podemos continuar por aqui?")
    graph.template(b.WABA, "rascunho", status="PENDING")
    status, body = connect_with_token(ob)
    assert status == 201, body
    status, listed = ob.api("GET", f"/connections/{body['connection']['id']}/templates")
    assert status == 200
    assert listed == {
        "templates": [
            {
                "name": "retomar_contato",
                "language": "pt_BR",
                "category": "UTILITY",
                "body": "Olá {{1}}! Podemos continuar por aqui?",
                "parameterCount": 1,
            }
        ]
    }
    # opened again within 5 minutes: the same list, Graph not asked again
    assert ob.api("GET", f"/connections/{body['connection']['id']}/templates") == (200, listed)
    assert len(graph.calls_to("message_templates")) == 1
    # in a new execution environment (nothing kept) with Graph refusing: 502, Meta's error named
    wiring.reset()
    graph.fail_next("message_templates", meta_error("Invalid OAuth access token", 190, 401))
    status, failed = ob.api("GET", f"/connections/{body['connection']['id']}/templates")
    assert (status, failed["error"]["code"]) == (502, "graph_error")


def test_the_template_picker_needs_a_token(ob: Onboarding) -> None:
    connection = ob.connect()
    status, refused = ob.api("GET", f"/connections/{connection['id']}/templates")
    assert (status, refused["error"]["code"]) == (422, "no_access_token")
