"""`make demo` against a running local stack: the printed card, report and timeline."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devstack.server import LocalStack
from tests.conftest import ROOT
from tests.localstack import api, run_demo
from tests.waiting import subprocess_timeout

pytestmark = pytest.mark.e2e


def demo_timeout() -> str:
    """The demo's own wait ends before the test's budget does (then the demo says what did not finish)."""
    return str(max(30, int(subprocess_timeout(180) - 20)))


def test_demo_prints_the_product(stack: LocalStack) -> None:
    # Given a running local stack, When the demo script runs as `make demo` runs it
    result = run_demo(stack, demo_timeout(), 120)
    # Then it succeeds and prints the card, the report and a ticket's timeline
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Histórico: 100%  -  Concluído" in out
    assert "8 messages, 3 conversations, 2 contacts imported; media pending: 0" in out
    assert "asked of Meta: smb_app_state_sync (accepted), history (accepted)" in out  # by the Meta simulator
    assert "by direction: {'INBOUND': 4, 'OUTBOUND': 4}" in out
    # the onboarding is moved to today: the new contact's window ends 24 h after his sticker, 5 min ago
    assert "history_lead  window: None" in out
    window = re.search(r"new_contact   window: (\S+)", out)
    assert window is not None
    ends = datetime.fromisoformat(window.group(1).replace("Z", "+00:00"))
    assert timedelta(hours=23, minutes=50) < ends - datetime.now(UTC) <= timedelta(hours=24)
    assert "→ [app_echo] Tem sim, Ana! Separo um para você?" in out
    # the photo (a history follow-up), the voice note, the App's PDF and the sticker: downloaded, checked, kept
    assert "== Media kept ==\n  stored: 4\n" in out
    assert "← [live    ] voice note · 8.8 kB · stored" in out
    assert "→ [app_echo] document · orcamento-2031.pdf · Seu orçamento, Ana · 68.6 kB · stored" in out
    assert "+5511977770002  image · Nota fiscal · 20.9 kB · stored" in out
    assert "+5511999990004  sticker · 8.2 kB · stored" in out
    # and each file's bytes are the ones Meta held, served at its media.url with their type
    key = re.search(r"API key \(organization \"Loja Demo\"\): (wtk_\S+)", out)
    assert key is not None
    served = served_media(stack, key.group(1))
    originals = {hashlib.sha256(f.read_bytes()).hexdigest(): f.name for f in (ROOT / "events/demo/media").glob("*.*")}
    assert {originals.get(digest): kind for digest, kind in served.items()} == {
        "photo.jpg": "image/jpeg",
        "voice.ogg": "audio/ogg; codecs=opus",
        "orcamento.pdf": "application/octet-stream",  # not an image, audio or video: an attachment
        "sticker.webp": "image/webp",
    }


def served_media(stack: LocalStack, key: str) -> dict[str, str]:
    """The digest of the bytes at each stored file's ``media.url`` (checked against the file's
    ``sha256``), and the type they were served with."""
    found = {}
    _, leads = api(stack, "GET", "/leads", key=key)
    for lead in leads["leads"]:
        _, detail = api(stack, "GET", f"/leads/{lead['id']}", key=key)
        for conversation in detail["conversations"]:
            _, page = api(stack, "GET", f"/conversations/{conversation['id']}/messages", key=key)
            for media in (m["media"] for m in page["messages"] if m["media"] and m["media"]["state"] == "stored"):
                with urllib.request.urlopen(media["url"], timeout=30) as response:  # the local stack
                    body, kind = response.read(), response.headers["Content-Type"]
                assert hashlib.sha256(body).hexdigest() == media["sha256"] and len(body) == media["size"]
                found[media["sha256"]] = kind
    return found


def test_demo_on_its_own_stack_keeps_the_terminal_to_the_story(tmp_path: Path) -> None:
    # Given no stack running, When `make demo` starts its own (on a free port) and stops at the end
    log_file = tmp_path / "functions.log"
    path = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "domain")])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_ENDPOINT"))}
    env.update({"PORT": "0", "PYTHONPATH": path, "DEMO_FUNCTION_LOG": str(log_file)})
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--no-wait", "--timeout", demo_timeout()],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=subprocess_timeout(120),
    )
    # Then the terminal shows the story only, naming the log file and ending with the dashboard
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert not [line for line in lines + result.stderr.splitlines() if line.lstrip().startswith("{")]
    assert f"function logs: {log_file}" in lines[0]
    assert "Histórico: 100%  -  Concluído" in result.stdout
    assert re.fullmatch(r"  Open http://127\.0\.0\.1:\d+/ and enter the key to watch this onboarding\.", lines[-1])
    assert re.fullmatch(r"  API key \(organization \"Loja Demo\"\): wtk_\S+", lines[-2])
    # And the functions' lines are in the file, each with the context of the function that wrote it
    records = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    by_message: dict[tuple[str, str | None], set[str]] = {}
    for record in records:
        by_message.setdefault((record["message"], record.get("field")), set()).add(record["function_name"])
    assert by_message[("webhook ingested", None)] == {"WebhookIngestFunction"}
    assert by_message[("change received", "history")] == {"HistoryChunkFunction"}
    assert by_message[("change received", "smb_app_state_sync")] == {"StateSyncFunction"}
    assert by_message[("change received", "messages")] == {"LiveMessageFunction"}
    assert by_message[("change received", "smb_message_echoes")] == {"EchoFunction"}
    assert len({r["function_request_id"] for r in records if r["message"] == "webhook ingested"}) == 12
    assert by_message[("media settled", None)] == {"MediaFetchFunction"}
    assert {r["service"] for r in records} == {"whatrack"}
