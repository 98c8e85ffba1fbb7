"""CONTRACT §7 message fidelity through ingest → queues → consumers → status API (moto): every shape of
``meta-webhooks.md`` §10 (the samples under ``events/meta/``), delivered in either order and twice,
reads back the same conversation, as the API shows it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.provision import Provisioned
from tests.builders.fidelity import BODILESS
from tests.builders.fidelity_samples import FIDELITY_SAMPLES, W_ECHO, W_IN, W_LIVE
from tests.builders.samples import SAMPLES
from tests.integration.harness import Onboarding

ORIGINALS = ["history_chunk", "echo_text", "messages_text"]
"""The samples the fidelity samples quote, react to and edit."""
NEVER_MESSAGES = {
    "wamid.REACT1",
    "wamid.REACT2",
    "wamid.ECHOREACT1",
    "wamid.EDIT1",
    "wamid.ECHOEDIT1",
    "wamid.REVOKE1",
    "wamid.HREACT1",
    "wamid.HREACT2",
    "wamid.HEDIT1",
}


def conversation(ob: Onboarding) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The customer's conversation as the API shows it (by wamid), and the connection's tickets."""
    status, leads = ob.api("GET", f"/leads?connectionId={ob.connection['id']}")
    assert status == 200, leads
    [lead] = leads["leads"]
    status, detail = ob.api("GET", f"/leads/{lead['id']}")
    [summary] = detail["conversations"]
    status, page = ob.api("GET", f"/conversations/{summary['id']}/messages?limit=500")
    assert status == 200 and page["nextCursor"] is None
    status, tickets = ob.api("GET", f"/tickets?connectionId={ob.connection['id']}")
    return {m["id"]: m for m in page["messages"]}, tickets["tickets"]


@pytest.fixture(params=["originals first", "annotations first"])
def delivered(aws: Provisioned, request: pytest.FixtureRequest) -> Iterator[Onboarding]:
    ob = Onboarding(aws)
    ob.connect()
    names = [*ORIGINALS, *FIDELITY_SAMPLES]
    if request.param == "annotations first":
        names.reverse()
    for name in names:  # each twice, as Meta's retries may
        ob.deliver(SAMPLES[name], SAMPLES[name])
    yield ob


def test_every_fidelity_shape_reads_back_the_same_in_any_order(delivered: Onboarding) -> None:
    messages, tickets = conversation(delivered)
    # reactions and edits are never messages of their own, and never open a ticket
    assert not NEVER_MESSAGES & set(messages)
    assert [t["originatedFrom"] for t in tickets] == ["history_lead"]
    # replies and forwards
    assert messages["wamid.REPLY1"]["replyToId"] == W_ECHO
    assert messages["wamid.ECHOREPLY1"]["replyToId"] == "wamid.REPLY1"
    assert messages["wamid.HREPLY1"]["replyToId"] == W_IN
    assert (messages["wamid.FWD1"]["forwarded"], messages["wamid.FWD1"]["deleted"]) == (True, True)
    assert messages["wamid.HLOC1"]["forwarded"] is True and messages[W_IN]["replyToId"] is None
    # reactions: one per side, the latest wins, an empty emoji removed the customer's 👍
    assert [(r["emoji"], r["direction"]) for r in messages[W_LIVE]["reactions"]] == [("❤️", "OUTBOUND")]
    assert messages[W_ECHO]["reactions"] == []
    assert [(r["emoji"], r["direction"]) for r in messages[W_IN]["reactions"]] == [("👀", "OUTBOUND")]
    assert [(r["emoji"], r["direction"]) for r in messages["wamid.HREPLY1"]["reactions"]] == [("🎉", "INBOUND")]
    # edits: the latest text shown, the original kept as a version
    edited = messages[W_ECHO]
    assert edited["body"] == "Sí, te lo reservo hasta el lunes." and edited["editedAt"] is not None
    assert [v["body"] for v in edited["edits"]] == ["Sí, te lo reservo hasta el viernes."]
    assert (messages[W_LIVE]["body"], len(messages[W_LIVE]["edits"])) == ("¿Hacen envíos a Rosario?", 1)
    assert (messages["wamid.HREPLY1"]["body"], messages["wamid.HREPLY1"]["edits"][0]["body"]) == (
        "Temos sim, em 3 cores",
        "Temos sim",
    )
    assert messages[W_IN]["editedAt"] is None and messages[W_IN]["edits"] == []
    # an edit delivered as unsupported stays an unsupported record
    assert (messages["wamid.EDITUNSUP1"]["type"], messages["wamid.EDITUNSUP1"]["body"]) == (
        "unsupported",
        "Message type unknown",
    )
    # every type readable, the raw object kept; an unknown type raw, without a summary
    for wamid, kind in [("wamid.LOC1", "location"), ("wamid.CONTACTS1", "contacts"), ("wamid.ORDER1", "order")]:
        content, summary = BODILESS[kind]
        assert (messages[wamid]["type"], messages[wamid]["body"], messages[wamid]["content"]) == (
            kind,
            summary,
            content,
        )
    assert messages["wamid.INTBTN1"]["body"] == "Sim, quero" and messages["wamid.INTLIST1"]["body"] == "Plano Pro"
    assert (messages["wamid.BUTTON1"]["body"], messages["wamid.BUTTON1"]["replyToId"]) == ("Quero saber mais", W_ECHO)
    assert messages["wamid.SYSTEM1"]["body"] == "O cliente mudou de número"
    assert (messages["wamid.POLL1"]["body"], messages["wamid.POLL1"]["content"]["question"]) == (None, "Qual cor?")


def test_the_ticket_timeline_shows_the_same_messages(delivered: Onboarding) -> None:
    messages, [ticket] = conversation(delivered)
    status, detail = delivered.api("GET", f"/tickets/{ticket['id']}?limit=500")
    assert status == 200
    timeline = {m["id"]: m for m in detail["ticket"]["messages"]}
    assert timeline == messages
