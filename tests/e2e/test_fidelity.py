"""CONTRACT §7 message fidelity over HTTP against the local stack: the reactions, edits, deletes and
replies arrive first (twice), their messages after, and the API shows the conversation as it was."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.server import LocalStack
from tests.builders.events import meta_bytes
from tests.builders.fidelity_samples import FIDELITY_SAMPLES, W_ECHO, W_IN, W_LIVE
from tests.builders.payloads import for_number
from tests.builders.samples import SAMPLES
from tests.localstack import api, post_webhook
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PNID, WABA = "209900000000131", "309900000000131"


def timeline(stack: LocalStack, key: str, connection_id: str) -> dict[str, dict[str, Any]]:
    """The messages of the connection's one ticket, by wamid (empty while it has none)."""
    _, tickets = api(stack, "GET", f"/tickets?connectionId={connection_id}", key=key)
    if not tickets["tickets"]:
        return {}
    status, detail = api(stack, "GET", f"/tickets/{tickets['tickets'][0]['id']}?limit=500", key=key)
    assert status == 200
    return {m["id"]: m for m in detail["ticket"]["messages"]}


def test_annotations_before_their_messages_show_on_them_in_the_ticket_timeline(stack: LocalStack) -> None:
    status, created = api(stack, "POST", "/admin/organizations", {"name": "Loja Fiel"}, "local-admin-key")
    key = created["apiKey"]
    connection = {"phoneNumberId": PNID, "wabaId": WABA, "displayPhoneNumber": "5491155550100", "mode": "coexistence"}
    status, body = api(stack, "POST", "/connections", {**connection, "syncHistory": True}, key)
    assert status == 201
    connection_id = body["connection"]["id"]
    # reactions, edits, the delete and the replies first, each twice; the originals last
    for name in [*reversed(FIDELITY_SAMPLES), "messages_text", "echo_text", "history_chunk"]:
        raw = meta_bytes(for_number(SAMPLES[name], PNID, WABA))
        assert (post_webhook(stack, raw), post_webhook(stack, raw)) == (200, 200)

    def complete() -> bool:
        shown = timeline(stack, key, connection_id)
        return all(w in shown for w in (W_IN, W_LIVE, W_ECHO)) and bool(shown[W_IN]["reactions"])

    wait_until(complete, "the three messages in the timeline, with their reactions")
    messages = timeline(stack, key, connection_id)
    assert [(r["emoji"], r["direction"]) for r in messages[W_LIVE]["reactions"]] == [("❤️", "OUTBOUND")]
    assert [(r["emoji"], r["direction"]) for r in messages[W_IN]["reactions"]] == [("👀", "OUTBOUND")]
    assert messages[W_ECHO]["reactions"] == []  # the customer's 👍 removed by its empty reaction
    assert (messages[W_ECHO]["body"], [v["body"] for v in messages[W_ECHO]["edits"]]) == (
        "Sí, te lo reservo hasta el lunes.",
        ["Sí, te lo reservo hasta el viernes."],
    )
    assert messages[W_LIVE]["editedAt"] is not None and messages[W_LIVE]["body"] == "¿Hacen envíos a Rosario?"
    assert (messages["wamid.REPLY1"]["replyToId"], messages["wamid.HREPLY1"]["replyToId"]) == (W_ECHO, W_IN)
    assert (messages["wamid.FWD1"]["forwarded"], messages["wamid.FWD1"]["deleted"]) == (True, True)
    assert messages["wamid.LOC1"]["content"]["name"] == "Loja Paulista"
    assert {"wamid.REACT1", "wamid.EDIT1", "wamid.ECHOEDIT1", "wamid.REVOKE1"}.isdisjoint(messages)
