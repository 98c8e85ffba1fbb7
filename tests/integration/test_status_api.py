"""Status API read endpoints (CONTRACT §6-7): happy paths, filters, pagination, auth, isolation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from devstack.provision import Provisioned, provision
from devstack.runtime import LambdaContext
from functions.status_api import app as status_app
from tests.builders import payloads as b
from tests.builders.events import http_event
from tests.conftest import TEST_ENVIRONMENT
from tests.integration.harness import Onboarding
from tests.integration.test_concurrency_and_properties import CUSTOMERS, onboarding_events
from whatrack import wiring


def get(key: str | None, path: str, query: str = "") -> tuple[int, Any]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    result = status_app.lambda_handler(
        http_event("GET", path, query=query, headers=headers), LambdaContext("s", 512, 20)
    )
    return result["statusCode"], json.loads(result["body"])


@pytest.fixture(scope="module")
def shared_world() -> Iterator[tuple[Provisioned, dict[str, Any]]]:
    """One onboarded organization (and another one) for the whole module: built once per worker,
    read by every test (``test_messages_oldest_first_and_tickets`` writes, and ends where it started:
    nine open tickets; the isolation test adds a lead to the other organization; the fuzz test's
    bodies are all refused before anything is stored)."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in TEST_ENVIRONMENT.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        stack = provision(None, environ={})
        for name, value in stack.environment.items():
            patch.setenv(name, value)
        wiring.reset()
        ob = Onboarding(stack)
        connection = ob.connect()
        for event in onboarding_events():
            ob.deliver(event)
        for index in range(7):  # more leads, for pagination
            ob.deliver(b.live(f"wamid.page{index}", f"551197777{index:04d}", 1751500000 + index))
        other = Onboarding(stack)
        other.connect(phone_number_id="999888777")
        yield stack, {"ob": ob, "key": ob.api_key, "connection": connection, "other_key": other.api_key}


@pytest.fixture
def world(shared_world: tuple[Provisioned, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    stack, data = shared_world
    for name, value in stack.environment.items():
        monkeypatch.setenv(name, value)
    wiring.reset()
    return data


def test_history_sync_detail_and_report(world: dict[str, Any]) -> None:
    status, body = get(world["key"], f"/connections/{world['connection']['id']}/history-sync")
    assert status == 200
    assert [(c["phase"], c["chunkOrder"]) for c in body["chunks"]] == [(0, 1), (1, 1), (2, 1)]
    report = body["report"]
    assert report["messagesByPhase"] == {"0": 2, "1": 2, "2": 1}
    assert report["messagesByDirection"] == {"INBOUND": 3, "OUTBOUND": 2}
    assert (report["threads"], report["contacts"], report["mediaPlaceholders"], report["mediaReceived"]) == (3, 2, 1, 1)
    assert report["chunkGaps"] == [] and body["historySync"]["status"] == "completed"
    assert body["historySync"]["chunkGaps"] == []  # the card's own copy, from the connection item


def test_logs_newest_first_with_disjoint_pages(world: dict[str, Any]) -> None:
    path = f"/connections/{world['connection']['id']}/logs"
    seen: list[str] = []
    cursor = None
    while True:
        status, page = get(world["key"], path, "limit=5" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        seen += [entry["id"] for entry in page["logs"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 18
    _, everything = get(world["key"], path, "limit=500")
    assert [e["id"] for e in everything["logs"]] == seen
    times = [e["at"] for e in everything["logs"]]
    assert times == sorted(times, reverse=True)
    kinds = {e["kind"] for e in everything["logs"]}
    assert kinds == {"webhook", "audit"}


def test_leads_filters_and_pages(world: dict[str, Any]) -> None:
    key = world["key"]
    _, first = get(key, "/leads", "limit=4")
    _, second = get(key, "/leads", f"limit=4&cursor={first['nextCursor']}")
    ids = [lead["id"] for lead in first["leads"] + second["leads"]]
    assert len(first["leads"]) == 4 and len(set(ids)) == len(ids)
    _, everything = get(key, "/leads", "limit=500")
    assert [lead["id"] for lead in everything["leads"]][:8] == ids
    assert len(everything["leads"]) == 10 and everything["nextCursor"] is None
    created = [lead["createdAt"] for lead in everything["leads"]]
    assert created == sorted(created, reverse=True)
    _, history = get(key, "/leads", "source=history_sync")
    assert {lead["source"] for lead in history["leads"]} == {"history_sync"} and history["leads"]
    for notation in ("+54 9 11 6666-0001", "5491166660001", "(+54) 91166660001"):
        _, found = get(key, "/leads", "phoneNumber=" + quote(notation))
        assert [lead["phoneNumber"] for lead in found["leads"]] == ["+5491166660001"], notation
    _, by_connection = get(key, "/leads", f"connectionId={world['connection']['id']}&limit=500")
    assert len(by_connection["leads"]) == 10
    status, detail = get(key, f"/leads/{history['leads'][0]['id']}")
    assert status == 200 and detail["conversations"][0]["connectionId"] == world["connection"]["id"]


def test_sort_activity_lists_latest_message_first_then_the_never_messaged(world: dict[str, Any]) -> None:
    key, connection_id = world["key"], world["connection"]["id"]
    for query in ("sort=activity&limit=500", f"sort=activity&connectionId={connection_id}&limit=500"):
        status, body = get(key, "/leads", query)
        assert status == 200
        times = [lead["lastMessageAt"] for lead in body["leads"]]
        spoken = [t for t in times if t is not None]
        # the latest message first, then every lead that never had one (newest created first)
        assert spoken == sorted(spoken, reverse=True) and times == spoken + [None] * (len(times) - len(spoken))
        quiet = [lead["createdAt"] for lead in body["leads"] if lead["lastMessageAt"] is None]
        assert quiet == sorted(quiet, reverse=True)
        _, newest_first = get(key, "/leads", query.replace("sort=activity&", ""))
        assert {lead["id"] for lead in newest_first["leads"]} == {lead["id"] for lead in body["leads"]}
    # pages of one follow the same order, each lead once
    ids, cursor = [], None
    while True:
        _, page = get(key, "/leads", "sort=activity&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        ids += [lead["id"] for lead in page["leads"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    _, whole = get(key, "/leads", "sort=activity&limit=500")
    assert ids == [lead["id"] for lead in whole["leads"]]
    _, tickets = get(key, "/tickets", "sort=activity&limit=500")
    latest = [ticket["lastMessageAt"] for ticket in tickets["tickets"]]
    assert latest and latest == sorted(latest, reverse=True)


def test_messages_oldest_first_and_tickets(world: dict[str, Any]) -> None:
    key = world["key"]
    _, tickets = get(key, "/tickets", "limit=500")
    assert len(tickets["tickets"]) == 9
    history_ticket = next(t for t in tickets["tickets"] if t["originatedFrom"] == "history_lead")
    _, open_only = get(key, "/tickets", f"status=open&connectionId={world['connection']['id']}&limit=500")
    assert len(open_only["tickets"]) == 9
    status, detail = get(key, f"/tickets/{history_ticket['id']}")
    assert status == 200
    sources = [m["source"] for m in detail["ticket"]["messages"]]
    assert "history" in sources and "live" in sources
    stamps = [m["timestamp"] for m in detail["ticket"]["messages"]]
    assert stamps == sorted(stamps) and detail["ticket"]["lead"]["id"] == history_ticket["leadId"]
    assert detail["nextCursor"] is None
    # the same conversation one message a page: disjoint pages, same order, the last without a cursor
    paged: list[str] = []
    cursor = None
    while True:
        status, page = get(key, f"/tickets/{history_ticket['id']}", "limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200 and len(page["ticket"]["messages"]) == 1
        paged += [m["id"] for m in page["ticket"]["messages"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert paged == [m["id"] for m in detail["ticket"]["messages"]] and len(paged) >= 2
    # latest=1: the conversation from its newest end, each olderCursor one page further back
    backwards: list[str] = []
    cursor = None
    while True:
        query = "latest=1&limit=1" + (f"&cursor={cursor}" if cursor else "")
        status, page = get(key, f"/tickets/{history_ticket['id']}", query)
        assert status == 200 and page["nextCursor"] is None and len(page["ticket"]["messages"]) == 1
        backwards += [m["id"] for m in page["ticket"]["messages"]]
        cursor = page["olderCursor"]
        if cursor is None:
            break
    assert backwards == paged[::-1]
    _, newest = get(key, f"/tickets/{history_ticket['id']}", "latest=1&limit=2")
    assert [m["id"] for m in newest["ticket"]["messages"]] == paged[-2:]
    assert get(key, f"/tickets/{history_ticket['id']}", "limit=501")[0] == 400
    conversation = history_ticket["conversationId"]
    _, page1 = get(key, f"/conversations/{conversation}/messages", "limit=1")
    _, page2 = get(key, f"/conversations/{conversation}/messages", f"limit=1&cursor={page1['nextCursor']}")
    assert [m["id"] for m in page1["messages"] + page2["messages"]] == [m["id"] for m in detail["ticket"]["messages"]][
        :2
    ]
    _, latest = get(key, f"/conversations/{conversation}/messages", "latest=1&limit=1")
    assert [m["id"] for m in latest["messages"]] == paged[-1:] and latest["nextCursor"] is None
    assert (latest["olderCursor"] is None) == (len(paged) == 1)
    # close: the ticket closes, the conversation can open a new one
    ob: Onboarding = world["ob"]
    status, closed = ob.api("PATCH", f"/tickets/{history_ticket['id']}", {"status": "closed"})
    assert status == 200 and closed["ticket"]["status"] == "closed"
    assert closed["ticket"]["closedAt"] is not None
    assert ob.api("PATCH", f"/tickets/{history_ticket['id']}", {"status": "closed"})[0] == 200
    assert ob.api("PATCH", f"/tickets/{history_ticket['id']}", {"status": "pending"})[0] == 400
    _, closed_list = get(key, "/tickets", "status=closed")
    assert [t["id"] for t in closed_list["tickets"]] == [history_ticket["id"]]
    phone = CUSTOMERS[2]
    ob.deliver(b.live("wamid.after-close", phone, 1751600000))
    _, reopened = get(key, "/tickets", "status=open&limit=500")
    assert len(reopened["tickets"]) == 9
    # reopen (v1.2): refused while the conversation has its new ticket; once that one is closed, allowed
    status, refused = ob.api("PATCH", f"/tickets/{history_ticket['id']}", {"status": "open"})
    assert (status, refused["error"]["code"]) == (409, "conversation_has_open_ticket")
    [newer] = [t for t in reopened["tickets"] if t["conversationId"] == history_ticket["conversationId"]]
    assert ob.api("PATCH", f"/tickets/{newer['id']}", {"status": "closed"})[0] == 200
    status, again = ob.api("PATCH", f"/tickets/{history_ticket['id']}", {"status": "open"})
    assert status == 200 and (again["ticket"]["status"], again["ticket"]["closedAt"]) == ("open", None)
    assert ob.api("PATCH", f"/tickets/{history_ticket['id']}", {"status": "open"})[0] == 200  # idempotent
    assert len(get(key, "/tickets", "status=open&limit=500")[1]["tickets"]) == 9


def test_every_route_with_an_id_is_401_without_key_and_404_for_another_organization(world: dict[str, Any]) -> None:
    key, other = world["key"], world["other_key"]
    _, tickets = get(key, "/tickets")
    ticket = tickets["tickets"][0]
    _, leads = get(key, "/leads")
    routes = [
        f"/connections/{world['connection']['id']}",
        f"/connections/{world['connection']['id']}/history-sync",
        f"/connections/{world['connection']['id']}/logs",
        f"/leads/{leads['leads'][0]['id']}",
        f"/conversations/{ticket['conversationId']}/messages",
        f"/tickets/{ticket['id']}",
    ]
    for path in routes:
        assert get(key, path)[0] == 200, path
        assert get(None, path)[0] == 401, path
        assert get("wtk_unknown", path)[0] == 401, path
        status, body = get(other, path)
        assert (status, body["error"]["code"]) == (404, "not_found"), path
    assert get(other, "/tickets", f"connectionId={world['connection']['id']}")[0] == 404
    # the routes of replies and new conversations (v1.2): another organization's ids are unknown to it
    template_path = f"/connections/{world['connection']['id']}/templates"
    assert get(key, template_path)[1]["error"]["code"] == "no_access_token"  # ours: the route reached
    assert get(None, template_path)[0] == 401 and get(other, template_path)[1]["error"]["code"] == "not_found"
    stranger = Onboarding(world["ob"].aws)
    stranger.api_key = other
    reply = {"template": {"name": "t", "language": "pt_BR", "parameters": []}}
    status, body = stranger.api("POST", f"/tickets/{ticket['id']}/messages", reply, headers={"Idempotency-Key": "k1"})
    assert (status, body["error"]["code"]) == (404, "not_found")
    opening = {"leadId": ticket["leadId"], "connectionId": world["connection"]["id"], "source": "manual"}
    status, body = stranger.api("POST", "/tickets", opening)
    assert (status, body["error"]["code"]) == (404, "not_found")
    stranger.api_key = None
    assert stranger.api("POST", f"/tickets/{ticket['id']}/messages", reply, headers={"Idempotency-Key": "k2"})[0] == 401
    for action in ("refresh", "history-sync/request", "history-sync/retry"):
        path = f"/connections/{world['connection']['id']}/{action}"
        stranger = Onboarding(world["ob"].aws)
        assert stranger.api("POST", path)[0] == 401, path
        stranger.api_key = other
        status, body = stranger.api("POST", path)
        assert (status, body["error"]["code"]) == (404, "not_found"), path
    assert get(other, "/leads", "limit=500")[1]["leads"] == []
    stranger = Onboarding(world["ob"].aws)
    stranger.api_key = other
    assert stranger.api("PATCH", f"/tickets/{ticket['id']}", {"status": "closed"})[0] == 404
    # a number that is our lead, made a lead by the other organization: a lead of its own, never ours
    ours = next(lead for lead in leads["leads"] if lead["phoneNumber"])
    stranger.api_key = other
    status, body = stranger.api("POST", "/leads", {"phoneNumber": ours["phoneNumber"]})
    assert status == 201 and body["lead"]["id"] != ours["id"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/leads", "limit=0"),
        ("/leads", "limit=10000"),
        ("/leads", "limit=abc"),
        ("/leads", "cursor=garbage!!"),
        ("/tickets", "cursor=eyJub3QiOiAiYSBrZXkifQ"),
        ("/tickets", "status=pending"),
        ("/leads", "source=unknown"),
        ("/leads", "sort=newest"),
        ("/tickets", "sort=lastMessageAt"),
    ],
)
def test_bad_query_values_are_400(world: dict[str, Any], path: str, query: str) -> None:
    status, body = get(world["key"], path, query)
    assert status == 400 and body["error"]["code"] in ("invalid_input", "invalid_cursor")


def test_a_cursor_from_another_list_is_refused(world: dict[str, Any]) -> None:
    _, page = get(world["key"], "/leads", "limit=2")
    _, other = get(world["other_key"], "/leads", f"cursor={page['nextCursor']}")
    assert other["error"]["code"] == "invalid_cursor"


def test_every_route_names_who_may_call_it() -> None:
    """Authentication is a route middleware: a route that forgot it would be public."""
    from whatrack.api.auth import admin_auth, organization_auth
    from whatrack.api.routers import ROUTERS

    routes = [(route, router) for router in ROUTERS for route in router._routes]
    assert len(routes) >= 16
    for route, router in routes:
        middlewares = router._routes_with_middleware.get(route, [])
        assert organization_auth in middlewares or admin_auth in middlewares, route[:2]


PUBLIC_ROUTES = {("GET", "/openapi.json")}
ADMIN_ROUTES = {("POST", "/admin/organizations")}


def call(method: str, path: str, key: str | None, body: Any = None) -> tuple[int, str]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    raw = None if body is None else json.dumps(body).encode()
    result = status_app.lambda_handler(http_event(method, path, body=raw, headers=headers), LambdaContext("s", 512, 20))
    return result["statusCode"], str(result["body"])


def test_every_route_of_the_openapi_document_is_closed_to_strangers_and_other_organizations(
    world: dict[str, Any],
) -> None:
    """Generated from the OpenAPI document: a route added later is checked without a line here."""
    key, other = world["key"], world["other_key"]
    _, tickets = get(key, "/tickets")
    _, leads = get(key, "/leads", "limit=500")
    ticket = tickets["tickets"][0]
    ids = {
        "connection_id": world["connection"]["id"],
        "lead_id": leads["leads"][0]["id"],
        "conversation_id": ticket["conversationId"],
        "ticket_id": ticket["id"],
    }
    secrets_of_a = {*ids.values(), *(lead["id"] for lead in leads["leads"]), key}
    document = json.loads(status_app.openapi_document())
    checked = 0
    for template, operations in document["paths"].items():
        for method in operations:
            verb = method.upper()
            names = [part[1:-1] for part in template.split("/") if part.startswith("{")]
            unknown = [name for name in names if name not in ids]
            assert not unknown, f"{verb} {template}: add an id of the first organization for {unknown}"
            path = template
            for name in names:
                path = path.replace("{" + name + "}", ids[name])
            if (verb, template) in PUBLIC_ROUTES:
                continue
            # (a route with a body gets an empty one: request validation runs before the route's
            # authentication, so that is a 400 for anyone; it reveals nothing and changes nothing)
            body = {} if "requestBody" in operations[method] else None
            refused = {401} if body is None else {400, 401}
            # Then nobody without a key, or with an unknown one, gets anything but a refusal
            assert call(verb, path, None, body)[0] in refused, (verb, template)
            assert call(verb, path, "wtk_unknown", body)[0] in refused, (verb, template)
            status, text = call(verb, path, other, body)
            if (verb, template) in ADMIN_ROUTES:
                assert status in refused, (verb, template)  # an organization's key is no admin's
            elif names:
                # the first organization's ids are unknown here, exactly like missing ones
                assert status in ({404} if body is None else {400, 404}), (verb, template, status)
            # And no answer to the other organization names anything of the first one (but what it sent)
            leaked = [value for value in secrets_of_a if value in text and value not in path]
            assert not leaked, (verb, template, leaked)
            checked += 1
    assert checked >= 15


def test_an_agent_creates_a_lead_and_starts_a_conversation(world: dict[str, Any]) -> None:
    """§7a ``POST /leads`` and ``POST /tickets``, in an organization of its own (the module's stays as it is)."""
    agent = Onboarding(world["ob"].aws)
    connection = agent.connect(phone_number_id="777666555", wabaId="777666555000")
    # a lead the history made (no open ticket): its conversation is a history lead's
    history = b.chunk(1, 1, 100, b.thread("5521977770001", b.text("wamid.AG.h1", "5521977770001", 1751400000)))
    agent.deliver(b.for_number(history, "777666555", "777666555000"))
    # When an agent adds a new person, in two ways of writing the number, and a bad number
    created = agent.api("POST", "/leads", {"phoneNumber": "+55 (11) 98888-0001", "pushName": "Nova Cliente"})
    again = agent.api("POST", "/leads", {"phoneNumber": "5511988880001"})
    assert created[0] == 201 and again[0] == 200
    lead = created[1]["lead"]
    assert (lead["source"], lead["pushName"], lead["phoneNumber"]) == (
        "direct_creation",
        "Nova Cliente",
        "+5511988880001",
    )
    assert again[1]["lead"] == lead  # the same lead, unchanged
    assert agent.api("POST", "/leads", {"phoneNumber": "12ab"})[1]["error"]["code"] == "invalid_input"
    known = agent.api("POST", "/leads", {"phoneNumber": "+5521977770001", "pushName": "Outro"})
    assert known[0] == 200 and known[1]["lead"]["source"] == "history_sync"
    # And opens a conversation with each (twice the first: the open ticket is answered)
    body = {"leadId": lead["id"], "connectionId": connection["id"], "source": "manual"}
    opened, repeated = agent.api("POST", "/tickets", body), agent.api("POST", "/tickets", body)
    assert (opened[0], repeated[0]) == (201, 200) and repeated[1]["ticket"]["id"] == opened[1]["ticket"]["id"]
    ticket = opened[1]["ticket"]
    assert (ticket["source"], ticket["originatedFrom"], ticket["status"]) == ("manual", "existing", "open")
    assert (ticket["messageWindowExpiresAt"], ticket["customerServiceWindowEndsAt"]) == (None, None)
    by_api = agent.api("POST", "/tickets", {"leadId": known[1]["lead"]["id"], "connectionId": connection["id"]})
    assert by_api[0] == 201
    assert (by_api[1]["ticket"]["source"], by_api[1]["ticket"]["originatedFrom"]) == ("api", "history_lead")
    _, listed = agent.api("GET", f"/tickets?connectionId={connection['id']}")
    assert {t["id"] for t in listed["tickets"]} == {ticket["id"], by_api[1]["ticket"]["id"]}
    # Another organization can neither open a ticket with these ids nor see them
    stranger = Onboarding(world["ob"].aws)
    stranger.api_key = world["other_key"]
    status, refused = stranger.api("POST", "/tickets", body)
    assert (status, refused["error"]["code"]) == (404, "not_found") and lead["id"] not in json.dumps(refused)
    assert agent.api("POST", "/tickets", {**body, "source": "incoming_message"})[0] == 400


# ------------------------------------------------------------------------------ fuzz (issue 22's bodies)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
odd = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=70)
reply_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"text": odd | json_values}, optional={"replyToId": odd | json_values, "previewUrl": json_values}
    ),
    st.fixed_dictionaries(
        {
            "template": st.fixed_dictionaries(
                {"name": odd, "language": odd | json_values},
                optional={"parameters": st.lists(odd | json_values, max_size=3) | json_values},
            )
            | json_values
        },
        optional={"text": odd},
    ),
)
lead_bodies = json_values | st.fixed_dictionaries(
    {"phoneNumber": odd | json_values}, optional={"pushName": odd | json_values}
)
ticket_bodies = json_values | st.fixed_dictionaries(
    {"leadId": odd | json_values, "connectionId": odd | json_values}, optional={"source": odd | json_values}
)
API_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def post(ob: Onboarding, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    raw = json.dumps(body, allow_nan=False).encode() if not isinstance(body, bytes) else body
    result = status_app.lambda_handler(
        http_event("POST", path, body=raw, headers={"authorization": f"Bearer {ob.api_key}", **(headers or {})}),
        LambdaContext("s", 512, 20),
    )
    return result["statusCode"], json.loads(result["body"])


def refused_with_a_code(status: int, answer: Any, allowed: set[int]) -> None:
    assert status in allowed, (status, answer)  # never a 5xx: a body that will never get better
    if status >= 400:
        assert isinstance(answer["error"]["code"], str) and answer["error"]["message"]


@API_FUZZ
@given(body=reply_bodies, key=odd)
def test_any_reply_body_and_key_is_answered_without_a_server_error(world: dict[str, Any], body: Any, key: str) -> None:
    ob: Onboarding = world["ob"]
    _, tickets = get(world["key"], "/tickets", "status=open&limit=1")
    path = f"/tickets/{tickets['tickets'][0]['id']}/messages"
    headers = {"Idempotency-Key": key.encode("utf-8", "surrogatepass").decode("latin-1")} if key else {}
    status, answer = post(ob, path, body, headers)
    refused_with_a_code(status, answer, {202, 400, 404, 409, 422})
    if status == 202:
        assert answer["message"]["status"] == "pending" and answer["message"]["source"] == "agent"


@API_FUZZ
@given(lead=lead_bodies, ticket=ticket_bodies)
def test_any_new_lead_or_ticket_body_is_answered_without_a_server_error(
    world: dict[str, Any], lead: Any, ticket: Any
) -> None:
    ob: Onboarding = world["ob"]
    refused_with_a_code(*post(ob, "/leads", lead), {200, 201, 400})
    refused_with_a_code(*post(ob, "/tickets", ticket), {200, 201, 400, 404, 422})


def conditional_get(key: str, path: str, tag: str | None = None) -> tuple[int, str, Any]:
    headers = {"authorization": f"Bearer {key}", **({"if-none-match": tag} if tag else {})}
    result = status_app.lambda_handler(http_event("GET", path, headers=headers), LambdaContext("s", 512, 20))
    body = json.loads(result["body"]) if result.get("body") else None
    return result["statusCode"], result["headers"].get("ETag", ""), body


def test_a_card_answers_304_until_anything_of_its_inbox_changes(world: dict[str, Any]) -> None:
    """D-49: every change of the number's inbox moves the card's ETag, even one the card does not
    show (a reaction); an unchanged card is a 304 without a body."""
    ob, key, connection_id = world["ob"], world["key"], world["connection"]["id"]
    path = f"/connections/{connection_id}"
    status, tag, body = conditional_get(key, path)
    assert status == 200 and body["connection"]["id"] == connection_id and tag.startswith('W/"')
    assert conditional_get(key, path, tag)[:2] == (304, tag)
    assert conditional_get(key, path, f'W/"other", {tag}')[0] == 304  # a list of tags: any one matches
    assert conditional_get(key, path, tag.removeprefix("W/"))[0] == 304  # weak comparison
    _, list_tag, _ = conditional_get(key, "/connections")
    assert conditional_get(key, "/connections", list_tag)[0] == 304
    # a reaction to a message the card does not show: the card's ETag moves, and the list's
    ob.deliver(
        b.live_raw(
            "wamid.etag.r1", "5511977770001", 1751500100, "reaction", {"message_id": "wamid.page1", "emoji": "❤️"}
        )
    )
    status, moved, body = conditional_get(key, path, tag)
    assert status == 200 and moved != tag and body["connection"]["id"] == connection_id
    assert conditional_get(key, path, moved)[0] == 304
    assert conditional_get(key, "/connections", list_tag)[0] == 200
    # another organization never gets a 304 for it
    assert conditional_get(world["other_key"], path, moved)[0] == 404
