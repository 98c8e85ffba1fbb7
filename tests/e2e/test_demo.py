"""`make demo` against a running local stack: the printed card, report and timeline."""

from __future__ import annotations

import pytest

from devstack.server import LocalStack

pytestmark = pytest.mark.e2e


def test_demo_prints_the_product(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts import demo

    monkeypatch.setenv("PORT", str(stack.port))
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "Histórico: 100%  -  Concluído" in out
    assert "8 messages, 3 conversations, 2 contacts imported; media pending: 0" in out
    assert "by direction: {'INBOUND': 4, 'OUTBOUND': 4}" in out
    assert "history_lead  window: None" in out and "new_contact   window: 2025-11-26T16:01:00.000Z" in out
    assert "→ [app_echo] Tem sim, Ana! Separo um para você?" in out
