"""Integration tier: handlers in-process under moto, resources created from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from devstack.provision import Provisioned, provision
from whatrack import bootstrap


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provisioned]:
    with mock_aws():
        stack = provision(None, environ={})
        for name, value in stack.environment.items():
            monkeypatch.setenv(name, value)
        bootstrap.reset()
        yield stack
