"""``media.url``'s base in AWS (D-44): the status API reads the dashboard distribution's base from
an SSM parameter the first time it shows a file, unless ``MEDIA_URL_BASE`` names one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from whatrack.adapters import parameters
from whatrack.adapters.parameters import SsmParameterText
from whatrack.config import StatusApiSettings
from whatrack.domain.errors import TransientError
from whatrack.domain.media import MediaState, signed_media_url
from whatrack.domain.messages import Media
from whatrack.services.media_links import MediaLinks
from whatrack.wiring.status_api import media_url_base

NAME = "/whatrack-dev/media-url-base"
BASE = "https://d111111abcdef8.cloudfront.net/media/"
NOW = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)


class FakeSsm:
    def __init__(self, values: dict[str, str], error: str = "") -> None:
        self.values = values
        self.error = error
        self.calls: list[str] = []

    def get_parameter(self, Name: str) -> dict[str, Any]:
        self.calls.append(Name)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "GetParameter")
        if Name not in self.values:
            raise ClientError({"Error": {"Code": "ParameterNotFound", "Message": "missing"}}, "GetParameter")
        return {"Parameter": {"Name": Name, "Type": "String", "Value": self.values[Name]}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_parameter_is_read_once_and_kept() -> None:
    ssm = FakeSsm({NAME: BASE})
    text = SsmParameterText(NAME, ssm)
    assert [text.value(), text.value(), text.value()] == [BASE] * 3
    assert ssm.calls == [NAME]


def test_a_missing_parameter_reads_empty_and_is_asked_again_a_minute_later() -> None:
    ssm, clock = FakeSsm({}), Clock()
    text = SsmParameterText(NAME, ssm, clock)
    assert text.value() == ""
    clock.now += parameters.RETRY_SECONDS - 1
    assert text.value() == "" and ssm.calls == [NAME]  # not on every request
    ssm.values[NAME] = BASE  # the stack wrote it
    clock.now += 1
    assert text.value() == BASE and ssm.calls == [NAME, NAME]


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException"])
def test_any_other_failure_is_retryable_and_not_remembered(code: str) -> None:
    ssm = FakeSsm({NAME: BASE}, error=code)
    text = SsmParameterText(NAME, ssm)
    with pytest.raises(TransientError, match=code):
        text.value()
    ssm.error = ""
    assert text.value() == BASE


def test_no_name_reads_nothing() -> None:
    ssm = FakeSsm({NAME: BASE})
    assert SsmParameterText("", ssm).value() == "" and ssm.calls == []


def _media(state: MediaState) -> Media:
    return Media(id="m1", mime_type="image/jpeg", caption=None, state=state.value, key="media/c1/0123abcd")


def _links(base: Any) -> MediaLinks:
    return MediaLinks(base=base, key=lambda: "secret", ttl=timedelta(seconds=300), clock=lambda: NOW)


def test_links_read_the_base_only_when_a_stored_file_is_shown() -> None:
    ssm = FakeSsm({NAME: BASE})
    links = _links(SsmParameterText(NAME, ssm).value)
    for state in (MediaState.PENDING, MediaState.FAILED, MediaState.PLACEHOLDER):
        assert links.link(_media(state)) == (None, None)
    assert ssm.calls == []  # a listing without stored files costs no read
    url, until = links.link(_media(MediaState.STORED))
    expires = int((NOW + timedelta(seconds=300)).timestamp())
    assert url == signed_media_url(BASE, "media/c1/0123abcd", expires, "secret")
    assert until == NOW + timedelta(seconds=300)
    links.link(_media(MediaState.STORED))
    assert ssm.calls == [NAME]


def test_links_without_a_base_have_no_url() -> None:
    assert _links(lambda: "").link(_media(MediaState.STORED)) == (None, None)
    assert _links("").link(_media(MediaState.STORED)) == (None, None)
    assert _links(BASE).link(_media(MediaState.STORED))[0] is not None


def _settings(**values: str) -> StatusApiSettings:
    required = {name.lower(): "x" for name in StatusApiSettings.required_env()}
    return StatusApiSettings(**{**required, **values})  # type: ignore[arg-type]


def test_the_environments_base_wins_over_the_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    ssm = FakeSsm({NAME: BASE})
    monkeypatch.setattr(parameters, "client", lambda service: {"ssm": ssm}[service])
    # the local stack's front, or another domain of the distribution: no parameter read
    assert media_url_base(_settings(media_url_base="http://127.0.0.1:3000/media/", media_url_base_parameter=NAME)) == (
        "http://127.0.0.1:3000/media/"
    )
    assert media_url_base(_settings()) == ""
    assert ssm.calls == []
    # in AWS: the parameter the template names, read when first needed
    reader = media_url_base(_settings(media_url_base_parameter=NAME))
    assert callable(reader) and ssm.calls == []
    assert reader() == BASE and ssm.calls == [NAME]
