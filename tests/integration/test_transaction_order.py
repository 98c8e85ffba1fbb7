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
from whatrack.adapters.dynamo.tables import MarkerItem, bind_tables, marker_key
from whatrack.adapters.dynamo.writes import OrderedTransactWrite, transact_refusals

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
    # Given a batch written as [a stub completion (an update) of an item that is no stub, a plain put of
    # a new one]: PynamoDB sends the put first, so DynamoDB's reasons say [None, ConditionalCheckFailed, None]
    from whatrack.adapters.dynamo.connections import ConnectionItem
    from whatrack.adapters.dynamo.tables import MarkerItem, connection_key, marker_key
    from whatrack.adapters.dynamo.writes import CountedInsert, write_counted

    existing, new = marker_key("T", "existing"), marker_key("T", "new")
    MarkerItem(*existing, gsi2pk="stored").save()
    counter = (ConnectionItem, connection_key(ob.connection["id"]), "threads_imported", 1)
    inserted = write_counted(
        [
            CountedInsert(MarkerItem(*existing, gsi2pk="x"), [counter], stub_lacks="gsi2pk", completes_stub=True),
            CountedInsert(MarkerItem(*new, gsi2pk="x"), [counter]),
        ]
    )
    # Then the new one is written and counted, the existing one dropped
    assert inserted == {new}
    assert MarkerItem.count(new[0]) == 1
    assert ob.state()["historySync"]["threadsImported"] == 1


def test_a_put_refused_by_a_stub_completes_it_in_the_same_batch_and_a_stored_item_is_dropped(ob: Onboarding) -> None:
    # Given a stub (no gsi2pk: the attribute a stub lacks), a stored item, and a key that is free
    from whatrack.adapters.dynamo.connections import ConnectionItem
    from whatrack.adapters.dynamo.tables import MarkerItem, connection_key, marker_key
    from whatrack.adapters.dynamo.writes import CountedInsert, write_counted

    stub, stored, new = marker_key("T", "stub"), marker_key("T", "stored"), marker_key("T", "new")
    MarkerItem(*stub, gsi2sk="kept by the stub").save()
    MarkerItem(*stored, gsi2pk="stored", gsi2sk="stored").save()
    counter = (ConnectionItem, connection_key(ob.connection["id"]), "threads_imported", 1)
    # When the three are inserted as puts that may meet a stub (ALL_OLD tells which refusal is one)
    inserted = write_counted(
        [
            CountedInsert(MarkerItem(*key, gsi2pk="inserted"), [counter], stub_lacks="gsi2pk")
            for key in (stub, stored, new)
        ]
    )
    # Then the stub is completed (its own attribute kept), the new one put, the stored one untouched,
    # and only the two inserts are counted
    assert inserted == {stub, new}
    completed = MarkerItem.get(*stub)
    assert (completed.gsi2pk, completed.gsi2sk) == ("inserted", "kept by the stub")
    assert MarkerItem.get(*stored).gsi2pk == "stored"
    assert MarkerItem.get(*new).gsi2pk == "inserted"
    assert ob.state()["historySync"]["threadsImported"] == 2


def test_a_refusal_without_the_stored_item_is_tried_as_a_stub_completion() -> None:
    # DynamoDB sends ALL_OLD with a refusal; if it ever did not, the update form decides (it refuses
    # a stored item), so a stub is never taken for a stored message
    from whatrack.adapters.dynamo.tables import MarkerItem, marker_key
    from whatrack.adapters.dynamo.writes import CountedInsert

    insert = CountedInsert(MarkerItem(*marker_key("T", "k"), gsi2pk="x"), stub_lacks="gsi2pk")
    assert insert.refused_by_stub(None)
    assert insert.refused_by_stub({"pk": {"S": "k"}})
    assert not insert.refused_by_stub({"pk": {"S": "k"}, "gsi2pk": {"S": "stored"}})
    assert not CountedInsert(MarkerItem(*marker_key("T", "k"))).refused_by_stub(None)


def test_a_refusal_is_reported_by_the_names_of_the_writes_refused(aws: Provisioned) -> None:
    # Given one marker stored, and the writes of a transaction named
    bind_tables(accounts=aws.tables["AccountsTable"], inbox=aws.tables["InboxTable"], log=aws.tables["LogTable"])
    MarkerItem(*marker_key("NAMED", "stored")).save()

    def build(tx: OrderedTransactWrite) -> None:
        # an update written first is sent last (PynamoDB sends puts before updates)
        tx.update(
            MarkerItem(*marker_key("NAMED", "missing")),
            actions=[MarkerItem.gsi2pk.set("x")],
            condition=MarkerItem.pk.exists(),
            name="update of a missing item",
        )
        tx.save(MarkerItem(*marker_key("NAMED", "fresh")), condition=MarkerItem.pk.does_not_exist(), name="fresh")
        tx.save(MarkerItem(*marker_key("NAMED", "stored")), condition=MarkerItem.pk.does_not_exist(), name="stored")

    # Then the refusals are named, whatever order DynamoDB answered in, and nothing was written
    assert transact_refusals("named writes", build) == {"update of a missing item", "stored"}
    assert MarkerItem.count(marker_key("NAMED", "fresh")[0]) == 0
