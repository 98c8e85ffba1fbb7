"""PynamoDB sends a transaction's condition checks, deletes, puts and then updates, whatever order
they were written in, and DynamoDB's cancellation reasons come in that order: a refusal must be
mapped back to the write that was refused (issue 11: a history chunk of a customer already met in
an earlier phase kept failing, the refused thread marker taken for a message)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.provision import Provisioned
from tests.builders import payloads as b
from tests.integration.harness import Onboarding

CUSTOMER, OTHER = "5491166660001", "5491177770002"
T0 = 1751400000


@pytest.fixture
def ob(aws: Provisioned) -> Iterator[Onboarding]:
    onboarding = Onboarding(aws)
    onboarding.connect()
    yield onboarding


def test_a_customer_met_again_in_a_later_phase_is_imported(ob: Onboarding) -> None:
    # Given a phase-0 chunk with a customer's thread
    ob.deliver(b.chunk(0, 1, 30, b.thread(CUSTOMER, b.text("wamid.p0", CUSTOMER, T0))))
    # When a phase-1 chunk has the same customer (its thread marker exists) and a new one
    ob.deliver(
        b.chunk(
            1,
            1,
            60,
            b.thread(CUSTOMER, b.text("wamid.p1.a", CUSTOMER, T0 - 100), b.text("wamid.p1.b", b.BIZ, T0 - 90)),
            b.thread(OTHER, b.text("wamid.p1.c", OTHER, T0 - 80)),
        )
    )
    # Then every message is imported, once, and every change processed
    assert set(ob.messages()) == {"wamid.p0", "wamid.p1.a", "wamid.p1.b", "wamid.p1.c"}
    assert {e["status"] for e in ob.log_entries() if e.get("kind", "webhook") == "webhook"} == {"processed"}
    assert ob.state()["historySync"]["messagesImported"] == 4


def test_write_counted_drops_the_write_that_was_refused_not_the_one_sent_at_its_position(ob: Onboarding) -> None:
    # Given a batch written as [an insert-as-update of an existing item, a plain put of a new one]:
    # PynamoDB sends the put first, so DynamoDB's reasons say [None, ConditionalCheckFailed, None]
    from whatrack.adapters.dynamo.connections import ConnectionItem
    from whatrack.adapters.dynamo.tables import MarkerItem, connection_key, marker_key
    from whatrack.adapters.dynamo.writes import CountedInsert, write_counted

    existing, new = marker_key("T", "existing"), marker_key("T", "new")
    MarkerItem(*existing).save()
    counter = (ConnectionItem, connection_key(ob.connection["id"]), "threads_imported", 1)
    inserted = write_counted(
        [
            CountedInsert(MarkerItem(*existing, gsi2pk="x"), [counter], absent=MarkerItem.pk.does_not_exist()),
            CountedInsert(MarkerItem(*new, gsi2pk="x"), [counter]),
        ]
    )
    # Then the new one is written and counted, the existing one dropped
    assert inserted == {new}
    assert MarkerItem.count(new[0]) == 1
    assert ob.state()["historySync"]["threadsImported"] == 1
