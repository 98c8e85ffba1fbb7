"""Issue 22 through the local stack and its Meta simulator: an agent's reply is accepted, sent once by the
outbox (a FIFO queue, as in AWS), and moved to ``read`` by the status webhooks the simulator posts back;
outside Meta's window free text is refused and a template goes, and a reply sent while Meta has
closed the window ends ``failed`` with 131047 named."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from devstack.meta import MetaSimulator
from devstack.server import LocalStack
from tests.builders import payloads as b
from tests.localstack import ADMIN_KEY, api, request
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PNID, WABA, TOKEN = "309900000000766", "409900000000766", "EAAG-e2e-replies"
CUSTOMER, QUIET = "5511977775555", "5511977776666"


def reply(stack: LocalStack, key: str, ticket_id: str, body: dict[str, Any], idempotency: str) -> tuple[int, Any]:
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}", "idempotency-key": idempotency}
    status, raw, _ = request(stack, "POST", f"/tickets/{ticket_id}/messages", json.dumps(body).encode(), headers)
    return status, json.loads(raw)


def shown(stack: LocalStack, key: str, ticket_id: str, client_id: str) -> dict[str, Any]:
    _, detail = api(stack, "GET", f"/tickets/{ticket_id}", key=key)
    [found] = [m for m in detail["ticket"]["messages"] if m.get("clientMessageId") == client_id]
    return dict(found)


def test_replies_are_sent_once_and_move_to_read(stack: LocalStack, graph: MetaSimulator) -> None:
    graph.business(WABA, PNID, token=TOKEN, display=b.BIZ)
    graph.template(WABA, "retomar_contato", body="Olá {{1}}! Podemos continuar por aqui?")
    _, created = api(stack, "POST", "/admin/organizations", {"name": "Loja das Respostas"}, ADMIN_KEY)
    key = created["apiKey"]
    body = {"phoneNumberId": PNID, "wabaId": WABA, "mode": "cloud_api", "syncHistory": False, "accessToken": TOKEN}
    status, connection = api(stack, "POST", "/connections", body, key)
    assert status == 201, connection
    now = int(time.time())
    # the customer writes live (Meta's window opens at Meta too)
    assert graph.deliver(b.for_number(b.live("wamid.e2e.r.in", CUSTOMER, now), PNID, WABA)) == 200

    def ticket_for(customer: str) -> str | None:
        _, tickets = api(stack, "GET", f"/tickets?connectionId={connection['connection']['id']}", key=key)
        lead_ids = {t["leadId"]: t["id"] for t in tickets["tickets"]}
        _, leads = api(stack, "GET", "/leads?limit=50", key=key)
        return next((lead_ids.get(lead["id"]) for lead in leads["leads"] if lead["waId"] == customer), None)

    wait_until(lambda: ticket_for(CUSTOMER) is not None, "the customer's ticket")
    ticket_id = str(ticket_for(CUSTOMER))
    # When the agent answers, quoting the customer, and the request comes twice
    first = reply(stack, key, ticket_id, {"text": "Oi! Temos sim.", "replyToId": "wamid.e2e.r.in"}, "e2e-1")
    again = reply(stack, key, ticket_id, {"text": "Oi! Temos sim.", "replyToId": "wamid.e2e.r.in"}, "e2e-1")
    assert first[0] == again[0] == 202
    client_id = first[1]["message"]["clientMessageId"]
    # Then it reaches read (the simulator's statuses, posted back signed), sent once
    wait_until(lambda: shown(stack, key, ticket_id, client_id)["status"] == "read", "the reply read")
    sends = [s for s in graph.messaging.sent if s.body.get("biz_opaque_callback_data") == client_id]
    assert len(sends) == 1 and shown(stack, key, ticket_id, client_id)["id"] == sends[0].wamid

    # a customer who never wrote live: a ticket opened by hand, free text refused, a template sent
    _, lead = api(stack, "POST", "/leads", {"phoneNumber": f"+{QUIET}"}, key)
    body = {"leadId": lead["lead"]["id"], "connectionId": connection["connection"]["id"], "source": "manual"}
    _, manual = api(stack, "POST", "/tickets", body, key)
    quiet_ticket = manual["ticket"]["id"]
    status, refused = reply(stack, key, quiet_ticket, {"text": "Oi"}, "e2e-2")
    assert (status, refused["error"]["code"]) == (422, "customer_service_window_closed")
    template = {"template": {"name": "retomar_contato", "language": "pt_BR", "parameters": ["Bia"]}}
    status, accepted = reply(stack, key, quiet_ticket, template, "e2e-3")
    assert status == 202 and accepted["message"]["body"] == "Olá Bia! Podemos continuar por aqui?"
    assert accepted["message"]["template"] == {"name": "retomar_contato", "language": "pt_BR", "parameters": ["Bia"]}
    assert (accepted["message"]["type"], accepted["message"]["error"]) == ("template", None)
    template_id = accepted["message"]["clientMessageId"]
    wait_until(lambda: shown(stack, key, quiet_ticket, template_id)["status"] == "read", "the template read")

    # Meta closed the window after all (the simulator says 131047 as a failed status, after a 200)
    graph.messaging.windows.pop((PNID, CUSTOMER), None)
    status, late = reply(stack, key, ticket_id, {"text": "Mais uma coisa"}, "e2e-4")
    assert status == 202
    late_id = late["message"]["clientMessageId"]
    wait_until(lambda: shown(stack, key, ticket_id, late_id)["status"] == "failed", "the late reply failed")
    assert shown(stack, key, ticket_id, late_id)["error"]["code"] == "131047"
