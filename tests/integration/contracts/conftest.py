"""One contract for every storage port, run against the in-memory fakes and the DynamoDB adapters.

Each test runs twice: on ``tests.fakes`` ("memory") and on ``whatrack.adapters`` over moto
("dynamodb": tables, bucket and secrets provisioned once per worker from ``template.yaml``), so the
fakes the unit tier relies on cannot drift from the adapters' conditional writes. Every test makes
its own organization, connection and numbers, so tests never see each other's data.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from devstack.provision import Provisioned, provision
from tests.integration.contracts.support import Ports, dynamodb_ports, memory_ports


@pytest.fixture(scope="package")
def moto_stack() -> Iterator[Provisioned]:
    """The template's resources in moto, once per package and worker (tests isolate by fresh ids)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            yield provision(None, environ={})


@pytest.fixture(params=["memory", "dynamodb"])
def ports(request: pytest.FixtureRequest) -> Ports:
    if request.param == "memory":
        return memory_ports()
    return dynamodb_ports(request.getfixturevalue("moto_stack"))
