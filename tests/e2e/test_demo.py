"""`make demo` against a running local stack: the printed card, report and timeline."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from devstack.server import LocalStack
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def test_demo_prints_the_product(stack: LocalStack) -> None:
    # Given a running local stack, When the demo script runs as `make demo` runs it
    path = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "domain")])
    env = {**os.environ, "PORT": str(stack.port), "POWERTOOLS_LOG_LEVEL": "WARNING", "PYTHONPATH": path}
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then it succeeds and prints the card, the report and a ticket's timeline
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Histórico: 100%  -  Concluído" in out
    assert "8 messages, 3 conversations, 2 contacts imported; media pending: 0" in out
    assert "by direction: {'INBOUND': 4, 'OUTBOUND': 4}" in out
    assert "history_lead  window: None" in out and "new_contact   window: 2025-11-26T16:01:00.000Z" in out
    assert "→ [app_echo] Tem sim, Ana! Separo um para você?" in out
