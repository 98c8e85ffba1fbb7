"""Onboarding with Meta on the fakes: ownership, the one-shot sync requests, Embedded Signup,
reconnection and refresh. The Graph client is the real one, answered in-process by ``MetaSimulator``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.meta import MetaSimulator, Scripted, meta_error
from tests.fakes import Clock, InMemoryWorld
from whatrack.domain.connections import ConnectionMode, ConnectionRequest, ConnectionStatus
from whatrack.domain.errors import ConflictError, RuleViolationError, UpstreamError
from whatrack.domain.onboarding import SyncOutcome, SyncType
from whatrack.services.embedded_signup import SignupSession
from whatrack.services.sync_requests import request_refusal

WABA = "401122334455667"
PNID = "209988776655443"
TOKEN = "EAAG-business-token"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def graph() -> MetaSimulator:
    fake = MetaSimulator()
    fake.business(WABA, PNID, token=TOKEN, code="code-ok")
    return fake


@pytest.fixture
def world(graph: MetaSimulator, clock: Clock) -> Iterator[InMemoryWorld]:
    yield InMemoryWorld(graph=graph, clock=clock)


def request(**overrides: object) -> ConnectionRequest:
    fields: dict[str, object] = {
        "phone_number_id": PNID,
        "waba_id": WABA,
        "mode": ConnectionMode.COEXISTENCE,
        "sync_history": True,
        "display_phone_number": "5491155550100",
        "access_token": TOKEN,
    } | overrides
    return ConnectionRequest(**fields)  # type: ignore[arg-type]


def outcomes(world: InMemoryWorld, connection_id: str) -> dict[SyncType, SyncOutcome]:
    found = world.connections.get(connection_id)
    assert found is not None
    return {r.sync_type: r.outcome_at(world.clock()) for r in found.sync_requests}


# ---------------------------------------------------------------- ownership and the automatic request
def test_a_token_verifies_the_number_and_asks_for_contacts_then_history(
    world: InMemoryWorld, graph: MetaSimulator
) -> None:
    # Given a business whose token can read its WABA and number
    organization = world.organization()
    # When it connects its coexistence number with history sync and that token
    result = world.connection_service().connect(organization.id, request())
    # Then the number was checked, is verified, and both syncs were requested, contacts first
    assert result.created and result.connection.verified
    assert [c.path for c in graph.calls] == [f"{WABA}/phone_numbers", f"{PNID}/smb_app_data", f"{PNID}/smb_app_data"]
    assert graph.sync_requests == [(PNID, "smb_app_state_sync"), (PNID, "history")]
    assert outcomes(world, result.connection.id) == {
        SyncType.CONTACTS: SyncOutcome.ACCEPTED,
        SyncType.HISTORY: SyncOutcome.ACCEPTED,
    }
    audit = {(r.event, r.status) for r in world.logs(result.connection.id)}
    assert ("sync_requested", "smb_app_state_sync request_id=req-1") in audit
    assert ("sync_requested", "history request_id=req-2") in audit


def test_without_history_sync_only_the_contacts_are_requested(world: InMemoryWorld, graph: MetaSimulator) -> None:
    # Given a coexistence number whose business did not choose to share its history
    connection = world.connection_service().connect(world.organization().id, request(sync_history=False)).connection
    # Then connecting it with a token asked for the contacts only (CONTRACT §6), and that is all there is
    assert graph.sync_requests == [(PNID, "smb_app_state_sync")]
    assert outcomes(world, connection.id) == {SyncType.CONTACTS: SyncOutcome.ACCEPTED}
    with pytest.raises(ConflictError) as refused:
        world.sync_requester().request(connection.organization_id, connection.id)
    assert refused.value.code == "already_requested"


def test_a_number_of_another_waba_is_refused_and_nothing_is_kept(world: InMemoryWorld, graph: MetaSimulator) -> None:
    # Given a token that reads the WABA, but a phone number id that is not one of its numbers
    organization = world.organization()
    # When it is connected
    with pytest.raises(RuleViolationError) as refused:
        world.connection_service().connect(organization.id, request(phone_number_id="999000111"))
    # Then 422 number_not_owned with Meta's list, and no connection, secret or request exists
    assert refused.value.code == "number_not_owned" and PNID in refused.value.message
    assert world.connections.list_for_organization(organization.id) == []
    assert world.vault.secrets == {} and graph.sync_requests == []


def test_a_token_meta_refuses_is_a_422_with_metas_answer(world: InMemoryWorld) -> None:
    # Given a token Meta does not know (expired, or another app's)
    # When a number is connected with it
    with pytest.raises(RuleViolationError) as refused:
        world.connection_service().connect(world.organization().id, request(access_token="EAAG-unknown"))
    # Then Meta's message comes back in the 422
    assert refused.value.code == "number_not_owned" and "(#190)" in refused.value.message


def test_graph_failing_during_the_check_is_a_502_and_creates_nothing(
    world: InMemoryWorld, graph: MetaSimulator
) -> None:
    # Given Meta answering 503 to every attempt
    graph.fail_next("phone_numbers", *[Scripted(503, {"error": {"message": "Service temporarily unavailable"}})] * 3)
    organization = world.organization()
    # When a number is connected with a token
    with pytest.raises(UpstreamError) as failed:
        world.connection_service().connect(organization.id, request())
    # Then it failed after the client's three attempts, uncertain, and nothing exists
    assert not failed.value.definite and len(graph.calls_to("phone_numbers")) == 3
    assert world.connections.list_for_organization(organization.id) == []


# ---------------------------------------------------------------- the explicit request
def test_a_second_request_is_refused(world: InMemoryWorld, graph: MetaSimulator) -> None:
    # Given a connection whose contacts and history were requested when it connected
    connection = world.connection_service().connect(world.organization().id, request()).connection
    # When the business asks again
    with pytest.raises(ConflictError) as refused:
        world.sync_requester().request(connection.organization_id, connection.id)
    # Then it is a 409 and Meta got no third request
    assert refused.value.code == "already_requested" and len(graph.sync_requests) == 2
    # and the card said so before the click (the action is offered only where it can work)
    assert request_refusal(world.connections.get(connection.id), world.clock()) == "already_requested"  # type: ignore[arg-type]


def test_a_refused_request_can_be_tried_again_and_history_waits_for_contacts(
    world: InMemoryWorld, graph: MetaSimulator
) -> None:
    # Given Meta answering the automatic contacts request with an error (a POST is not retried: Meta
    # takes each sync request once, and a 5xx does not say it was not applied)
    graph.fail_next("smb_app_data", meta_error("An unknown error occurred", 1, 500))
    connection = world.connection_service().connect(world.organization().id, request()).connection
    # Then the connection exists, contacts failed with Meta's error and history was not asked yet
    card = world.connections.get(connection.id)
    assert card is not None and outcomes(world, connection.id) == {SyncType.CONTACTS: SyncOutcome.FAILED}
    contacts = card.sync_request(SyncType.CONTACTS)
    assert contacts is not None and (contacts.error_code, contacts.error_message) == ("1", "An unknown error occurred")
    # When the business asks again and Meta answers
    accepted = world.sync_requester().request(connection.organization_id, connection.id)
    # Then both are accepted, contacts first
    assert [r.sync_type for r in accepted] == [SyncType.CONTACTS, SyncType.HISTORY]
    assert graph.sync_requests == [(PNID, "smb_app_state_sync"), (PNID, "history")]


def test_a_failure_of_the_explicit_request_is_meta_error_in_a_502(world: InMemoryWorld, graph: MetaSimulator) -> None:
    # Given a connection whose automatic history request failed, and Meta failing once more
    graph.fail_next("smb_app_data", Scripted(200, {"request_id": "req-c"}), meta_error("Try later", 2, 503))
    connection = world.connection_service().connect(world.organization().id, request()).connection
    graph.fail_next("smb_app_data", meta_error("Try later", 2, 503))
    # When the business asks again
    with pytest.raises(UpstreamError) as failed:
        world.sync_requester().request(connection.organization_id, connection.id)
    # Then the 502 carries Meta's error and the history request stays retryable
    assert failed.value.meta_error == "(#2) Try later"
    assert outcomes(world, connection.id)[SyncType.HISTORY] is SyncOutcome.FAILED


def test_a_lost_answer_is_never_sent_again_blindly(world: InMemoryWorld, graph: MetaSimulator) -> None:
    # Given Meta taking longer than the client waits for the history request (the answer is lost)
    graph.fail_next("smb_app_data", Scripted(200, {"request_id": "req-c"}), Scripted(200, {"request_id": "r"}, 5.0))
    connection = world.connection_service().connect(world.organization().id, request()).connection
    assert outcomes(world, connection.id)[SyncType.HISTORY] is SyncOutcome.UNKNOWN
    # When the business asks again
    with pytest.raises(ConflictError) as refused:
        world.sync_requester().request(connection.organization_id, connection.id)
    # Then it is refused (409) and Meta saw the history request exactly once
    assert refused.value.code == "sync_request_unanswered"
    assert [c.body["sync_type"] for c in graph.calls_to("smb_app_data")] == ["smb_app_state_sync", "history"]


def test_a_crash_between_intent_and_answer_leaves_the_request_pending_then_unknown(
    world: InMemoryWorld, graph: MetaSimulator, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a connection whose automatic contacts request Meta refused (so it may be sent again)
    graph.fail_next("smb_app_data", meta_error("Try later", 2, 503))
    connection = world.connection_service().connect(world.organization().id, request(sync_history=False)).connection

    # When the process dies right after Meta accepted the request, before its answer was saved
    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the execution environment died")

    monkeypatch.setattr(world.sync, "finish_request", crash)
    with pytest.raises(RuntimeError):
        world.sync_requester().request(connection.organization_id, connection.id)
    monkeypatch.undo()
    # Then the intent is pending, a new call is refused instead of asking Meta again, and after a
    # while the card shows the answer as lost
    assert outcomes(world, connection.id) == {SyncType.CONTACTS: SyncOutcome.PENDING}
    with pytest.raises(ConflictError):
        world.sync_requester().request(connection.organization_id, connection.id)
    clock.advance(minutes=3)
    assert outcomes(world, connection.id) == {SyncType.CONTACTS: SyncOutcome.UNKNOWN}
    assert graph.sync_requests == [(PNID, "smb_app_state_sync")]


def test_a_request_still_waiting_for_its_answer_is_in_progress_and_history_waits(
    world: InMemoryWorld, graph: MetaSimulator
) -> None:
    # Given a contacts request whose intent is saved and whose answer has not come yet
    graph.fail_next("smb_app_data", meta_error("Try later", 2, 503))
    connection = world.connection_service().connect(world.organization().id, request()).connection
    assert world.sync.begin_request(connection.id, SyncType.CONTACTS, world.clock())
    # When the business asks for the sync
    with pytest.raises(ConflictError) as refused:
        world.sync_requester().request(connection.organization_id, connection.id)
    # Then it is told the request is in progress, and history was not asked before the contacts
    assert refused.value.code == "sync_request_in_progress"
    assert [c.body["sync_type"] for c in graph.calls_to("smb_app_data")] == ["smb_app_state_sync"]


def test_a_lost_contacts_answer_stops_history_too(world: InMemoryWorld, graph: MetaSimulator, clock: Clock) -> None:
    # Given the contacts request's answer lost (a gateway 502 without Graph's error body)
    graph.fail_next("smb_app_data", Scripted(502, None))
    connection = world.connection_service().connect(world.organization().id, request()).connection
    # Then history was not asked (contacts first), and asking again is refused, never sent blindly
    assert outcomes(world, connection.id) == {SyncType.CONTACTS: SyncOutcome.UNKNOWN}
    with pytest.raises(ConflictError) as refused:
        world.sync_requester().request(connection.organization_id, connection.id)
    assert refused.value.code == "sync_request_unanswered"
    assert len(graph.calls_to("smb_app_data")) == 1


@pytest.mark.parametrize(
    ("overrides", "hours", "disconnect", "code"),
    [
        ({"access_token": None}, 0, False, "no_access_token"),
        ({"mode": ConnectionMode.CLOUD_API}, 0, False, "not_coexistence"),
        ({}, 25, False, "sync_window_expired"),
        ({}, 0, True, "connection_disconnected"),
    ],
)
def test_requests_meta_cannot_take_are_422(
    world: InMemoryWorld,
    graph: MetaSimulator,
    clock: Clock,
    overrides: dict[str, object],
    hours: float,
    disconnect: bool,
    code: str,
) -> None:
    # Given a connection without a token, a cloud API number, one connected over 24 h ago, or a
    # disconnected one (each with its automatic contacts request refused by Meta, so one is due)
    graph.fail_next("smb_app_data", meta_error("Try later", 2, 503))
    connection = world.connection_service().connect(world.organization().id, request(**overrides)).connection
    clock.advance(hours=hours)
    if disconnect:
        world.connections.set_status(connection.id, ConnectionStatus.DISCONNECTED, clock())
    sent = len(graph.sync_requests)
    # When the business asks for its history
    with pytest.raises(RuleViolationError) as refused:
        world.sync_requester().request(connection.organization_id, connection.id)
    # Then it is refused with the reason, and Meta was not asked; the card names the same reason
    assert refused.value.code == code and len(graph.sync_requests) == sent
    assert request_refusal(world.connections.get(connection.id), clock()) == code  # type: ignore[arg-type]


# ---------------------------------------------------------------- Embedded Signup
def test_embedded_signup_exchanges_the_code_and_finds_the_number(world: InMemoryWorld, graph: MetaSimulator) -> None:
    # Given the session of an Embedded Signup that named only the WABA
    session = SignupSession(code="code-ok", waba_id=WABA, mode=ConnectionMode.COEXISTENCE, sync_history=True)
    # When it is completed
    result = world.embedded_signup().connect(world.organization().id, session)
    # Then the code became the token, the WABA's one number was taken, and the syncs were requested
    connection = result.connection
    assert result.created and connection.verified and connection.phone_number_id == PNID
    assert (connection.display_phone_number, connection.display_name) == ("5491155550100", "Loja Centro")
    assert world.vault.read(str(connection.access_token_secret_id)) == TOKEN
    assert graph.calls_to("oauth")[0].query["client_id"] == graph.app_id
    assert len(graph.sync_requests) == 2


def test_embedded_signup_with_a_refused_code_is_a_422(world: InMemoryWorld) -> None:
    session = SignupSession(code="code-used", waba_id=WABA, mode=ConnectionMode.COEXISTENCE)
    with pytest.raises(RuleViolationError) as refused:
        world.embedded_signup().connect(world.organization().id, session)
    assert refused.value.code == "code_exchange_failed" and "authorization code" in refused.value.message


def test_embedded_signup_on_a_waba_with_several_numbers_asks_which(world: InMemoryWorld, graph: MetaSimulator) -> None:
    # Given a WABA with two numbers and a session that did not say which one
    graph.business("555000111222333", "111", "222", token="EAAG-two", code="code-two")
    session = SignupSession(code="code-two", waba_id="555000111222333", mode=ConnectionMode.COEXISTENCE)
    # Then it is a 422 listing both, and nothing is connected
    with pytest.raises(RuleViolationError) as refused:
        world.embedded_signup().connect(world.organization().id, session)
    assert refused.value.code == "phone_number_ambiguous"
    assert "111 (" in refused.value.message and "222 (" in refused.value.message


# ---------------------------------------------------------------- reconnect and refresh
def test_a_disconnected_number_comes_back_to_its_organization_only(world: InMemoryWorld, clock: Clock) -> None:
    # Given a verified connection, disconnected by Meta
    organization = world.organization()
    connection = world.connection_service().connect(organization.id, request()).connection
    world.connections.set_status(connection.id, ConnectionStatus.DISCONNECTED, clock())
    # When another organization, then its own, connect the number again
    with pytest.raises(ConflictError):
        world.connection_service().connect(world.organization("Other").id, request(access_token="EAAG-business-token"))
    clock.advance(minutes=1)
    again = world.connection_service().connect(organization.id, request())
    # Then its own gets the same card back, active (200, not a new connection), history kept
    assert (again.created, again.connection.id, again.connection.connection_status) == (
        False,
        connection.id,
        ConnectionStatus.ACTIVE,
    )
    with pytest.raises(ConflictError):  # and once active, connecting it again is a conflict
        world.connection_service().connect(organization.id, request())


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"is_on_biz_app": True, "platform_type": "CLOUD_API"}, ConnectionStatus.ACTIVE),
        ({"is_on_biz_app": False, "platform_type": "CLOUD_API"}, ConnectionStatus.DISCONNECTED),
        ({"is_on_biz_app": True, "platform_type": "NOT_APPLICABLE"}, ConnectionStatus.DISCONNECTED),
    ],
)
def test_refresh_applies_a_definite_answer(
    world: InMemoryWorld, graph: MetaSimulator, state: dict[str, object], expected: ConnectionStatus
) -> None:
    connection = world.connection_service().connect(world.organization().id, request()).connection
    graph.states[PNID] = state
    refreshed = world.connection_service().refresh(connection.organization_id, connection.id)
    assert refreshed.connection_status is expected and refreshed.last_checked_at is not None


def test_refresh_with_a_revoked_token_disconnects(world: InMemoryWorld, graph: MetaSimulator) -> None:
    connection = world.connection_service().connect(world.organization().id, request()).connection
    graph.tokens.clear()  # the business removed the app
    refreshed = world.connection_service().refresh(connection.organization_id, connection.id)
    assert refreshed.connection_status is ConnectionStatus.DISCONNECTED


@pytest.mark.parametrize(
    "answers",
    [
        [meta_error("Service unavailable", 2, 503)] * 3,
        [Scripted(200, {"id": PNID})],  # no fields: says nothing
        [Scripted(200, {"id": PNID}, delay=5.0)] * 3,  # timeouts
    ],
)
def test_an_uncertain_refresh_changes_nothing(
    world: InMemoryWorld, graph: MetaSimulator, answers: list[Scripted]
) -> None:
    # Given an active connection and Meta answering nothing definite
    connection = world.connection_service().connect(world.organization().id, request()).connection
    graph.fail_next("number_state", *answers)
    # When it is refreshed
    with pytest.raises(UpstreamError):
        world.connection_service().refresh(connection.organization_id, connection.id)
    # Then it stays active (an uncertain answer never disconnects a business)
    found = world.connections.get(connection.id)
    assert found is not None and found.connection_status is ConnectionStatus.ACTIVE


def test_a_number_comes_back_only_on_its_own_waba(world: InMemoryWorld, clock: Clock, graph: MetaSimulator) -> None:
    # Given a disconnected number of an organization
    organization = world.organization()
    connection = world.connection_service().connect(organization.id, request()).connection
    world.connections.set_status(connection.id, ConnectionStatus.DISCONNECTED, clock())
    graph.business("555000111222333", PNID, token="EAAG-other-waba")
    # When it is connected again naming another WABA
    with pytest.raises(RuleViolationError) as refused:
        world.connection_service().connect(
            organization.id, request(waba_id="555000111222333", access_token="EAAG-other-waba")
        )
    # Then it is refused, and the card stays disconnected
    assert refused.value.code == "waba_mismatch"
    found = world.connections.get(connection.id)
    assert found is not None and found.connection_status is ConnectionStatus.DISCONNECTED


def test_a_conflict_is_answered_without_asking_meta(world: InMemoryWorld, graph: MetaSimulator) -> None:
    # Given a number connected by one organization, and Meta unreachable
    world.connection_service().connect(world.organization().id, request())
    graph.fail_next("phone_numbers", *[meta_error("Service unavailable", 2, 503)] * 3)
    calls = len(graph.calls)
    # When another organization connects it, Then it is a 409 (not a 502), and Meta was not asked
    with pytest.raises(ConflictError):
        world.connection_service().connect(world.organization("Other").id, request())
    assert len(graph.calls) == calls
