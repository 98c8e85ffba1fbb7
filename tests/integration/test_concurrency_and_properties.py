"""Concurrency (parallel deliveries) and order-independence (hypothesis) of the import pipeline.

The threads race against moto with every request atomic, as DynamoDB applies them (devstack/atomic.py,
installed with the tier's devstack.moto_patches)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from devstack.provision import Provisioned, provision
from tests.builders import payloads as b
from tests.integration.harness import Onboarding
from whatrack import wiring
from whatrack.domain.changes import ChangeMessage, WebhookField
from whatrack.wiring import consumers

T0 = 1751400000


def _message(connection: dict[str, Any], field: WebhookField, value: dict[str, Any], log_id: str) -> ChangeMessage:
    return ChangeMessage(
        field=field,
        log_id=log_id,
        connection_id=connection["id"],
        organization_id=connection["organizationId"],
        archive_key="webhooks/sha256/00/none",
        entry_index=0,
        change_index=0,
        received_at=datetime.now(UTC),
        value=value,
    )


def test_parallel_deliveries_of_a_new_lead_give_one_ticket(aws: Provisioned) -> None:
    ob = Onboarding(aws)
    connection = ob.connect()
    consumer = consumers.consumer()
    customer = "5511944443333"
    docs = [b.live(f"wamid.PAR{i}", customer, T0 + i)["entry"][0]["changes"][0]["value"] for i in range(8)]
    barrier = threading.Barrier(len(docs))

    def deliver(index: int) -> None:
        barrier.wait()
        consumer.consume(_message(connection, WebhookField.MESSAGES, docs[index], f"log-{index}"))

    with ThreadPoolExecutor(max_workers=len(docs)) as pool:
        list(pool.map(deliver, range(len(docs))))
    [ticket] = ob.tickets()
    assert len(ob.leads()) == 1 and len(ob.messages()) == 8
    assert ticket["originated_from"] == "new_contact"
    assert ticket["message_window_expires_at"] == datetime.fromtimestamp(T0 + 7 + 86400, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%f+0000"
    )


def test_parallel_chunks_keep_counters_exact(aws: Provisioned) -> None:
    ob = Onboarding(aws)
    connection = ob.connect()
    consumer = consumers.consumer()
    chunks = []
    for order in range(1, 7):
        threads = [
            b.thread(
                f"55119{order}{t}000000",
                *[b.text(f"wamid.{order}.{t}.{m}", f"55119{order}{t}000000", T0 + m) for m in range(10)],
            )
            for t in range(3)
        ]
        chunks.append(b.chunk(1, order, order * 10, *threads)["entry"][0]["changes"][0]["value"])
    work = [*chunks, *chunks]  # every chunk delivered twice, all at once

    def deliver(index: int) -> None:
        consumer.consume(_message(connection, WebhookField.HISTORY, work[index], f"log-{index % 6}"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(deliver, range(len(work))))
    state = ob.state()["historySync"]
    assert (state["messagesImported"], state["threadsImported"], state["progress"]) == (180, 18, 60)
    assert len(ob.messages()) == 180 and len(ob.leads()) == 18


# ---------------------------------------------------------------- order independence
CUSTOMERS = ["5491166660001", "5491177770002", "5511966660003"]


def onboarding_events() -> list[dict[str, Any]]:
    """A small but complete onboarding: contacts, chunks (one completing), a placeholder and its
    follow-up, live messages, echoes, and a revoke."""
    c1, c2, c3 = CUSTOMERS
    return [
        b.contacts(("add", c1, "Maria"), ("add", c2, "Joana")),
        b.chunk(0, 1, 30, b.thread(c1, b.text("wamid.h1", c1, T0), b.text("wamid.h2", b.BIZ, T0 + 1))),
        b.chunk(1, 1, 70, b.thread(c2, b.text("wamid.h3", c2, T0 + 2), b.placeholder("wamid.m1", b.BIZ, T0 + 3))),
        b.chunk(2, 1, 100, b.thread(c3, b.text("wamid.h4", c3, T0 + 4))),
        b.media_followup("wamid.m1", c2, T0 + 3, outbound=True),
        b.live("wamid.l1", c1, T0 + 100),
        b.live("wamid.l2", c3, T0 + 101),
        b.live("wamid.l3", c1, T0 + 102),
        b.echo("wamid.e1", c2, T0 + 103),
        b.echo("wamid.e2", c1, T0 + 104),
        b.revoke("wamid.r1", "wamid.e2", c1, T0 + 105),
    ]


def projection(ob: Onboarding) -> dict[str, Any]:
    """Everything that must not depend on arrival order (who-created-it fields legitimately do)."""
    sync = ob.state()["historySync"]
    messages = {
        wamid: (
            m["direction"],
            m["type"],
            m.get("body"),
            m["deleted"],
            json.loads(m["media"])["id"] if m.get("media") else None,
        )
        for wamid, m in ob.messages().items()
    }
    conversations = sorted(int(c["message_count"]) for c in ob.items("CONV#"))
    phones = {str(lead["id"]): str(lead.get("phone_number")) for lead in ob.leads()}
    return {
        "messages": messages,
        "conversations": conversations,
        "leads": sorted(str(lead.get("phone_number")) for lead in ob.leads()),
        "tickets": sorted(phones[str(t["lead_id"])] for t in ob.tickets()),
        "sync": {
            k: sync[k]
            for k in (
                "status",
                "progress",
                "phase",
                "chunkOrder",
                "messagesImported",
                "threadsImported",
                "contactsImported",
                "mediaPending",
            )
        },
    }


FIELDS = {
    "history": WebhookField.HISTORY,
    "smb_app_state_sync": WebhookField.STATE_SYNC,
    "smb_message_echoes": WebhookField.ECHOES,
    "messages": WebhookField.MESSAGES,
}


def run(order: list[int], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Apply the events in ``order`` straight through the consumer (transport is tested elsewhere)."""
    events = onboarding_events()
    with mock_aws():
        stack = provision(None, environ={})
        for name, value in stack.environment.items():
            monkeypatch.setenv(name, value)
        wiring.reset()
        ob = Onboarding(stack)
        connection = ob.connect()
        consumer = consumers.consumer()
        for position, index in enumerate(order):
            change = events[index]["entry"][0]["changes"][0]
            consumer.consume(_message(connection, FIELDS[change["field"]], change["value"], f"log-{position}"))
        result = projection(ob)
        wiring.reset()
    return result


EXPECTED: dict[str, Any] = {}


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.permutations(range(len(onboarding_events()))), st.lists(st.integers(0, len(onboarding_events()) - 1), max_size=4)
)
def test_any_permutation_and_duplication_ends_in_the_same_state(
    monkeypatch: pytest.MonkeyPatch, order: list[int], repeats: list[int]
) -> None:
    if not EXPECTED:
        EXPECTED.update(run(list(range(len(onboarding_events()))), monkeypatch))
        assert EXPECTED["sync"]["status"] == "completed" and EXPECTED["sync"]["mediaPending"] == 0
        assert len(EXPECTED["tickets"]) == 2 and EXPECTED["messages"]["wamid.e2"][3] is True
    shuffled = list(order)
    for position, index in enumerate(repeats):
        shuffled.insert((position * 3) % (len(shuffled) + 1), index)
    assert run(shuffled, monkeypatch) == EXPECTED
