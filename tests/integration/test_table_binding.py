"""Binding the item models to this deployment's tables does not depend on import order: a model
defined (imported) after :func:`bind_tables` uses the bound table, with its own indexes."""

from __future__ import annotations

import boto3
from pynamodb.attributes import UnicodeAttribute

from devstack.provision import Provisioned
from whatrack.adapters.dynamo.tables import Gsi2, InboxTableItem, bind_tables


def test_a_model_defined_after_the_tables_were_bound_writes_and_queries_the_bound_table(aws: Provisioned) -> None:
    bind_tables(accounts=aws.tables["AccountsTable"], inbox=aws.tables["InboxTable"], log=aws.tables["LogTable"])

    class LateItem(InboxTableItem):  # as a module imported after the function's wiring ran
        by_connection = Gsi2()
        gsi2pk = UnicodeAttribute()
        gsi2sk = UnicodeAttribute()
        note = UnicodeAttribute()

    LateItem("LATE#1", "LATE", gsi2pk="CONN#late", gsi2sk="1", note="bound").save()
    stored = boto3.client("dynamodb").get_item(
        TableName=aws.tables["InboxTable"], Key={"pk": {"S": "LATE#1"}, "sk": {"S": "LATE"}}
    )
    assert stored["Item"]["note"] == {"S": "bound"}
    assert [item.note for item in LateItem.by_connection.query("CONN#late")] == ["bound"]
