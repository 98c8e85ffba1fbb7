"""Integration tier: handlers in-process under moto, resources created from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from devstack import moto_patches
from devstack.meta import MetaSimulator, running_simulator
from devstack.provision import Provisioned, provision
from whatrack import wiring


@pytest.fixture(scope="session", autouse=True)
def _moto_transactions() -> Iterator[None]:
    """Every ``mock_aws`` of this tier runs transactions as the local stack does (no table copies)."""
    with moto_patches.patched():
        yield


@pytest.fixture
def graph() -> Iterator[MetaSimulator]:
    """The Meta simulator on 127.0.0.1 (the functions reach it through ``GRAPH_API_BASE_URL``)."""
    with running_simulator() as simulator:
        yield simulator


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, graph: MetaSimulator) -> Iterator[Provisioned]:
    with mock_aws():
        stack = provision(None, environ={"GRAPH_API_BASE_URL": graph.base_url})
        for name, value in stack.environment.items():
            monkeypatch.setenv(name, value)
        wiring.reset()
        yield stack
