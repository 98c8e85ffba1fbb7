"""The Graph API client over real HTTP on 127.0.0.1: retries, timeouts, Meta's errors surfaced."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from devstack.meta import MetaSimulator, Scripted, meta_error, running_simulator
from whatrack.adapters.graph import HttpGraphApi
from whatrack.domain.errors import ConfigurationError, UpstreamError
from whatrack.domain.onboarding import SyncType

WABA, PNID, TOKEN = "401122334455667", "209988776655443", "EAAG-token"


@pytest.fixture
def graph() -> Iterator[MetaSimulator]:
    with running_simulator() as fake:
        fake.business(WABA, PNID, token=TOKEN, code="code-1")
        yield fake


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(base_url: str, sleeps: Sleeps | None = None, *, app_id: str = "local-app-id") -> HttpGraphApi:
    return HttpGraphApi(
        base_url=base_url,
        version="v24.0",
        app_id=app_id,
        app_secret=lambda: "local-app-secret",
        timeout_seconds=0.5,
        attempts=3,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def test_every_call_reaches_the_versioned_path_with_the_bearer(graph: MetaSimulator) -> None:
    api = client(graph.base_url)
    assert api.exchange_code("code-1") == TOKEN
    assert [n.id for n in api.phone_numbers(WABA, TOKEN)] == [PNID]
    assert api.request_sync(PNID, TOKEN, SyncType.CONTACTS) == "req-1"
    assert api.number_state(PNID, TOKEN).coexistence_active() is True
    oauth, numbers, sync, state = graph.calls
    assert oauth.query == {"client_id": "local-app-id", "client_secret": "local-app-secret", "code": "code-1"}
    assert (numbers.path, numbers.authorization) == (f"{WABA}/phone_numbers", f"Bearer {TOKEN}")
    assert sync.body == {"messaging_product": "whatsapp", "sync_type": "smb_app_state_sync"}
    assert state.query == {"fields": "is_on_biz_app,platform_type"}


def test_429_then_success_backs_off_as_meta_asks(graph: MetaSimulator) -> None:
    # Given Meta rate-limiting once, asking to wait 2 s
    graph.fail_next(
        "smb_app_data", Scripted(429, {"error": {"message": "Too many calls", "code": 80007}}, 0, {"Retry-After": "2"})
    )
    sleeps = Sleeps()
    # When a sync is requested
    request_id = client(graph.base_url, sleeps).request_sync(PNID, TOKEN, SyncType.HISTORY)
    # Then it waited what Meta asked and the second attempt went through
    assert (request_id, sleeps, len(graph.calls_to("smb_app_data"))) == ("req-1", [2.0], 2)


def test_5xx_until_the_attempts_run_out_is_uncertain(graph: MetaSimulator) -> None:
    graph.fail_next("phone_numbers", *[meta_error("Service temporarily unavailable", 2, 503)] * 3)
    sleeps = Sleeps()
    with pytest.raises(UpstreamError) as failed:
        client(graph.base_url, sleeps).phone_numbers(WABA, TOKEN)
    assert (failed.value.status, failed.value.meta_code, failed.value.definite) == (503, 2, False)
    assert len(sleeps) == 2 and all(0 < s <= 4 for s in sleeps)


def test_a_4xx_is_metas_definite_answer_and_never_retried(graph: MetaSimulator) -> None:
    with pytest.raises(UpstreamError) as refused:
        client(graph.base_url).phone_numbers(WABA, "EAAG-revoked")
    error = refused.value
    assert (error.status, error.meta_code, error.definite, error.fbtrace_id) == (401, 190, True, "AbCdEfSim123")
    assert error.meta_error.startswith("(#190) Error validating access token")
    assert len(graph.calls) == 1


def test_a_get_that_times_out_is_tried_again(graph: MetaSimulator) -> None:
    graph.fail_next("number_state", Scripted(200, {"is_on_biz_app": True}, delay=1.0))
    state = client(graph.base_url).number_state(PNID, TOKEN)
    assert state.coexistence_active() is True and len(graph.calls_to("number_state")) == 2


def test_a_post_that_times_out_lost_its_answer_and_is_not_sent_again(graph: MetaSimulator) -> None:
    # Given Meta answering the sync request after the client stopped waiting
    graph.fail_next("smb_app_data", Scripted(200, {"request_id": "r-late"}, delay=1.0))
    # When a sync is requested
    with pytest.raises(UpstreamError) as lost:
        client(graph.base_url).request_sync(PNID, TOKEN, SyncType.HISTORY)
    # Then the answer is lost (it may have been applied) and it was sent once only
    assert lost.value.answer_lost and not lost.value.definite
    assert len(graph.calls_to("smb_app_data")) == 1


def test_a_refused_connection_never_reached_meta_and_is_retried() -> None:
    # Given nothing listening on the port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    # When a POST is tried, Then every attempt is made (nothing was sent) and it is not "lost"
    with pytest.raises(UpstreamError) as failed:
        client(f"http://127.0.0.1:{port}", sleeps).request_sync(PNID, TOKEN, SyncType.HISTORY)
    assert not failed.value.answer_lost and len(sleeps) == 2


@pytest.mark.parametrize(("status", "body"), [(200, "not json"), (200, ["a", "list"]), (200, {"no": "request_id"})])
def test_an_unexpected_body_is_an_error_not_a_crash(graph: MetaSimulator, status: int, body: object) -> None:
    graph.fail_next("smb_app_data", Scripted(status, body))
    with pytest.raises(UpstreamError):
        client(graph.base_url).request_sync(PNID, TOKEN, SyncType.CONTACTS)


def test_no_app_id_is_a_configuration_error(graph: MetaSimulator) -> None:
    with pytest.raises(ConfigurationError):
        client(graph.base_url, app_id="").exchange_code("code-1")
    assert graph.calls == []
