"""Issue 10, defect 6 on the moto tier (CONTRACT §8.10): one person is one lead per organization.

A phone known as one lead and a user id (BSUID) known as another become one lead as soon as a
message shows them together, whatever arrived first: the status API then shows one lead, reached
by either old id, with the history flag, one conversation holding every message, and its tickets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.provision import Provisioned
from devstack.runtime import LambdaContext
from functions.status_api import app as status_app
from tests.builders import payloads as b
from tests.builders.events import http_event
from tests.integration.harness import Onboarding

CUSTOMER = "5491166660001"
USER_ID = "AR.1234567890123"
T0 = 1751400000


@pytest.fixture
def ob(aws: Provisioned) -> Iterator[Onboarding]:
    onboarding = Onboarding(aws)
    onboarding.connect()
    yield onboarding


def live_with_both(wamid: str, ts: int) -> dict[str, Any]:
    message = {"from": CUSTOMER, "from_user_id": USER_ID, "id": wamid, "timestamp": str(ts), "type": "text"}
    contact = {"profile": {"name": "Maria"}, "wa_id": CUSTOMER, "user_id": USER_ID}
    return b.envelope("messages", {"contacts": [contact], "messages": [{**message, "text": {"body": "oi"}}]})


def live_user_only(wamid: str, ts: int) -> dict[str, Any]:
    message = {"from_user_id": USER_ID, "id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": "oi"}}
    return b.envelope("messages", {"contacts": [{"user_id": USER_ID}], "messages": [message]})


CONTACT = b.contacts(("add", CUSTOMER, "Maria"))
HISTORY = b.chunk(2, 1, 90, b.thread(None, b.text("wamid.H1", None, T0, from_user_id=USER_ID), user_id=USER_ID))


def listed_leads(ob: Onboarding, query: str = "") -> list[dict[str, Any]]:
    headers = {"authorization": f"Bearer {ob.api_key}"}
    result = status_app.lambda_handler(
        http_event("GET", "/leads", headers=headers, query=query), LambdaContext("s", 512, 20)
    )
    body = json.loads(result["body"])
    assert result["statusCode"] == 200, body
    return list(body["leads"])


@pytest.mark.parametrize("first", ["contacts", "history"])
def test_a_phone_lead_and_a_user_id_lead_become_one_when_a_message_shows_both(ob: Onboarding, first: str) -> None:
    # Given a contact known by phone only and a history thread known by user id only (either first)
    for document in (CONTACT, HISTORY) if first == "contacts" else (HISTORY, CONTACT):
        ob.deliver(document)
    before = {lead["id"] for lead in listed_leads(ob)}
    assert len(before) == 2
    # When a live message carries both (delivered twice, as Meta may)
    ob.deliver(live_with_both("wamid.L1", T0 + 100))
    ob.deliver(live_with_both("wamid.L1", T0 + 100))
    # Then the organization has one lead, with both ids and the history flag, created by whoever came first
    [lead] = listed_leads(ob)
    assert lead["id"] in before
    assert (lead["phoneNumber"], lead["userId"], lead["hasHistory"]) == ("+" + CUSTOMER, USER_ID, True)
    assert lead["source"] == ("state_sync" if first == "contacts" else "history_sync")
    # And either old id reaches it, with one conversation holding the history and the live message
    for old_id in before:
        status, detail = ob.api("GET", f"/leads/{old_id}")
        assert status == 200 and detail["lead"]["id"] == lead["id"]
        [conversation] = detail["conversations"]
        assert conversation["messageCount"] == 2
    # And its one ticket is a history lead's, without a 24 h window, on that conversation
    _, tickets = ob.api("GET", "/tickets")
    [ticket] = tickets["tickets"]
    assert (ticket["leadId"], ticket["originatedFrom"], ticket["messageWindowExpiresAt"]) == (
        lead["id"],
        "history_lead",
        None,
    )
    _, shown = ob.api("GET", f"/tickets/{ticket['id']}")
    assert [m["id"] for m in shown["ticket"]["messages"]] == ["wamid.H1", "wamid.L1"]
    # And the connection lists it once
    assert [found["id"] for found in listed_leads(ob, f"connectionId={ob.connection['id']}")] == [lead["id"]]
    assert [found["id"] for found in listed_leads(ob, f"phoneNumber={CUSTOMER}")] == [lead["id"]]


def test_a_ticket_of_the_newer_lead_follows_it_into_the_older_one(ob: Onboarding) -> None:
    # Given a history lead known by user id, then a live message by user id only... of a phone lead
    ob.deliver(CONTACT, b.live("wamid.P1", CUSTOMER, T0 + 50))
    ob.deliver(live_user_only("wamid.U1", T0 + 60))
    [phone_ticket, user_ticket] = sorted(ob.tickets(), key=lambda t: str(t["created_at"]))
    assert len(listed_leads(ob)) == 2
    # When a message shows the phone and the user id together
    ob.deliver(live_with_both("wamid.B1", T0 + 70))
    # Then one lead holds one conversation with the three messages, and both tickets point at it
    [lead] = listed_leads(ob)
    _, detail = ob.api("GET", f"/leads/{lead['id']}")
    [conversation] = detail["conversations"]
    assert conversation["messageCount"] == 3
    _, tickets = ob.api("GET", "/tickets")
    assert {(t["leadId"], t["conversationId"]) for t in tickets["tickets"]} == {(lead["id"], conversation["id"])}
    assert {t["id"] for t in tickets["tickets"]} == {phone_ticket["id"], user_ticket["id"]}
    # And at most one of them is still open
    assert [t["status"] for t in tickets["tickets"]].count("open") == 1


def contact_renamed(name: str, ts: int) -> dict[str, Any]:
    document = b.contacts(("add", CUSTOMER, name))
    document["entry"][0]["changes"][0]["value"]["state_sync"][0]["metadata"]["timestamp"] = str(ts)
    return document


@pytest.mark.parametrize("first", ["contacts", "history"])
def test_the_merged_lead_keeps_the_contact_name_and_its_time_whichever_lead_survives(
    ob: Onboarding, first: str
) -> None:
    # Given the contact (named at 1751401000) and a user-id-only history lead, in either order (the
    # older lead survives the merge: the contact's, or the history's)
    ob.deliver(*((CONTACT, HISTORY) if first == "contacts" else (HISTORY, CONTACT)))
    # When a message shows both ids, then a rename older than the contact's name arrives
    ob.deliver(live_with_both("wamid.L1", T0 + 10))
    ob.deliver(contact_renamed("Nome antigo", 1751400500))
    # Then one lead, with the contact's name and its time, which the older rename did not undo
    [lead] = [item for item in ob.leads() if not item.get("merged_into")]
    assert (lead.get("push_name"), str(lead.get("contact_name_at"))[:19]) == ("Maria", "2025-07-01T20:16:40")
