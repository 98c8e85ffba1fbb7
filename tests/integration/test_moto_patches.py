"""Issue 11: the local stack's DynamoDB transactions roll back the items they touched, not copies of tables.

Every scenario runs twice, on ``devstack.moto_patches`` and on moto's own ``transact_write_items``,
and what botocore sees (results, errors, ``CancellationReasons``, the tables afterwards) must be
the same. The cost is counted in ``copy.deepcopy`` calls, never in seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from devstack import moto_patches

PLAIN, RANGED = "plain", "ranged"
Outcome = dict[str, Any]


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def make_tables(ddb: Any, seeded: int = 3) -> None:
    ddb.create_table(
        TableName=PLAIN,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName=RANGED,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(seeded):
        ddb.put_item(TableName=PLAIN, Item={"pk": s(f"p{i}"), "count": n(i), "tags": {"SS": ["a"]}})
        ddb.put_item(TableName=RANGED, Item={"pk": s("lead"), "sk": s(f"r{i}"), "count": n(i)})


def dump(ddb: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        table: sorted(ddb.scan(TableName=table)["Items"], key=lambda i: (i["pk"]["S"], i.get("sk", s(""))["S"]))
        for table in (PLAIN, RANGED)
    }


def run(mode: Callable[[], AbstractContextManager[None]], items: list[dict[str, Any]]) -> Outcome:
    """The transaction on fresh tables under ``mode``: its answer (or error) and the tables after it."""
    with mode(), mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        make_tables(ddb)
        before = dump(ddb)
        try:
            ddb.transact_write_items(TransactItems=items)
            error: dict[str, Any] | None = None
        except ClientError as e:
            error = {
                "code": e.response["Error"]["Code"],
                "message": e.response["Error"]["Message"],
                "reasons": e.response.get("CancellationReasons"),
            }
        return {"error": error, "before": before, "after": dump(ddb)}


def both(items: list[dict[str, Any]]) -> Outcome:
    patched, original = run(moto_patches.patched, items), run(moto_patches.unpatched, items)
    assert patched == original
    return patched


def mixed(refused: dict[str, Any]) -> list[dict[str, Any]]:
    """Puts, updates, deletes and condition checks on both tables, ``refused`` in the middle."""
    add = {":one": n(1), ":t": {"SS": ["b"]}}
    counter = {":zero": n(0), ":one": n(1)}
    return [
        {"Put": {"TableName": PLAIN, "Item": {"pk": s("new"), "count": n(1)}}},
        {"Update": {"TableName": PLAIN, "Key": {"pk": s("p1")}, "UpdateExpression": "ADD #c :one, tags :t",
                    "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": add}},
        {"Delete": {"TableName": RANGED, "Key": {"pk": s("lead"), "sk": s("r0")}}},
        refused,
        {"Update": {"TableName": RANGED, "Key": {"pk": s("lead"), "sk": s("r9")},
                    "UpdateExpression": "SET #c = if_not_exists(#c, :zero) + :one",
                    "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": counter}},
        {"ConditionCheck": {"TableName": PLAIN, "Key": {"pk": s("p0")}, "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": RANGED, "Item": {"pk": s("lead"), "sk": s("r1"), "count": n(50)}}},
    ]  # fmt: skip


HOLDS = {
    "ConditionCheck": {
        "TableName": RANGED,
        "Key": {"pk": s("lead"), "sk": s("r2")},
        "ConditionExpression": "attribute_exists(sk)",
    }
}
REFUSED = {
    "put on an existing item": {
        "Put": {
            "TableName": PLAIN,
            "Item": {"pk": s("p2"), "count": n(99)},
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    },
    "update of a missing item": {
        "Update": {
            "TableName": RANGED,
            "Key": {"pk": s("lead"), "sk": s("missing")},
            "UpdateExpression": "SET #c = :v",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": {":v": n(7)},
        }
    },
    "condition check that fails": {
        "ConditionCheck": {
            "TableName": PLAIN,
            "Key": {"pk": s("p2")},
            "ConditionExpression": "#c > :big",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": {":big": n(1000)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    },
    "delete whose condition fails": {
        "Delete": {
            "TableName": RANGED,
            "Key": {"pk": s("lead"), "sk": s("r2")},
            "ConditionExpression": "#c = :other",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": {":other": n(41)},
        }
    },
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_cancelled_transaction_leaves_nothing_behind_with_moto_s_reasons(case: str) -> None:
    # Given a mixed transaction whose fourth item is refused, When it runs (patched and not)
    outcome = both(mixed(REFUSED[case]))
    # Then it is cancelled with one reason per item, only the refused one failing
    error = outcome["error"]
    assert error is not None and error["code"] == "TransactionCanceledException"
    codes = [reason["Code"] for reason in error["reasons"]]
    assert codes == ["None", "None", "None", "ConditionalCheckFailed", "None", "None", "None"]
    returns_old = REFUSED[case][next(iter(REFUSED[case]))].get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    assert ("Item" in error["reasons"][3]) is returns_old
    # and every item, written before or after the refused one, is as it was
    assert outcome["after"] == outcome["before"]


def test_a_successful_transaction_applies_everything_on_both_tables() -> None:
    outcome = both(mixed(HOLDS))
    assert outcome["error"] is None
    after = {(i["pk"]["S"], i.get("sk", s("-"))["S"]): i for items in outcome["after"].values() for i in items}
    assert after[("new", "-")]["count"] == n(1)
    assert after[("p1", "-")]["count"] == n(2) and sorted(after[("p1", "-")]["tags"]["SS"]) == ["a", "b"]
    assert ("lead", "r0") not in after
    assert after[("lead", "r9")]["count"] == n(1)  # SET if_not_exists on an item that did not exist
    assert after[("lead", "r1")]["count"] == n(50)


def test_one_item_twice_is_a_validation_error_that_leaves_nothing_behind() -> None:
    put = {"Put": {"TableName": PLAIN, "Item": {"pk": s("p0"), "count": n(5)}}}
    outcome = both([{"Put": {"TableName": PLAIN, "Item": {"pk": s("other")}}}, put, put])
    assert outcome["error"] is not None and outcome["error"]["code"] == "ValidationException"
    assert outcome["after"] == outcome["before"]


def test_an_invalid_update_inside_a_transaction_is_reported_like_moto_and_rolled_back() -> None:
    bad = {
        "Update": {
            "TableName": PLAIN,
            "Key": {"pk": s("fresh")},
            "UpdateExpression": "ADD #c :text",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": {":text": s("not a number")},
        }
    }
    outcome = both([{"Put": {"TableName": PLAIN, "Item": {"pk": s("new")}}}, bad])
    assert outcome["error"] is not None
    assert outcome["after"] == outcome["before"]


@pytest.fixture
def deepcopies(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every ``copy.deepcopy`` call, nested ones included (the module calls itself through this name)."""
    calls = [0]
    original = copy.deepcopy

    def counted(value: Any, memo: Any = None, _nil: Any = None) -> Any:
        calls[0] += 1
        return original(value, memo) if _nil is None else original(value, memo, _nil)  # type: ignore[call-arg]

    monkeypatch.setattr(copy, "deepcopy", counted)
    yield calls


def copies_for_one_transaction(mode: Callable[[], AbstractContextManager[None]], stored: int, calls: list[int]) -> int:
    with mode(), mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        make_tables(ddb, seeded=stored)
        items = mixed(HOLDS)
        calls[0] = 0
        ddb.transact_write_items(TransactItems=items)
        return calls[0]


def test_a_transaction_copies_as_much_on_a_big_table_as_on_a_small_one(deepcopies: list[int]) -> None:
    small, big = 10, 400
    patched = [copies_for_one_transaction(moto_patches.patched, size, deepcopies) for size in (small, big)]
    original = [copies_for_one_transaction(moto_patches.unpatched, size, deepcopies) for size in (small, big)]
    # moto's own copies grow with the tables (the measure works), the patched ones do not
    assert original[1] / original[0] > 10
    assert patched[1] == patched[0]
    assert patched[1] * 100 < original[1]


def test_the_patch_refuses_a_moto_it_was_not_written_for() -> None:
    with pytest.raises(moto_patches.UnsupportedMotoVersion, match=r"5\.2\.5"):
        moto_patches.check_version("5.3.0")
    with moto_patches.unpatched(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto_patches.moto, "__version__", "5.2.6")
        with pytest.raises(moto_patches.UnsupportedMotoVersion):
            moto_patches.install()
        assert not moto_patches.installed()


UPDATES = {
    "a path set twice": ("SET #a = :one, #a = :two", {"#a": "count"}),
    "overlapping paths": ("SET info.x = :one, info = :two", None),
    "two SET clauses": ("SET #a = :one SET other = :two", {"#a": "count"}),
    "the key": ("SET pk = :one", None),
    "many actions, all valid": ("SET a1 = :one, a2 = :two, a3 = :one REMOVE tags ADD #a :one", {"#a": "count"}),
}


def update_outcome(mode: Callable[[], AbstractContextManager[None]], expression: str, names: Any) -> Outcome:
    """Each update run twice with other values (a parsed expression is shared): answers and tables."""
    with mode(), mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        make_tables(ddb)
        answers: list[Any] = []
        for one, two in ((1, 2), (3, 4)):
            kwargs: dict[str, Any] = {
                "TableName": PLAIN,
                "Key": {"pk": s("p1")},
                "UpdateExpression": expression,
                "ExpressionAttributeValues": {":one": n(one), ":two": n(two)},
                "ReturnValues": "ALL_NEW",
            }
            if names:
                kwargs["ExpressionAttributeNames"] = names
            try:
                answers.append(ddb.update_item(**kwargs)["Attributes"])
            except ClientError as e:
                answers.append((e.response["Error"]["Code"], e.response["Error"]["Message"]))
        return {"answers": answers, "after": dump(ddb)}


@pytest.mark.parametrize("case", list(UPDATES))
def test_update_expressions_are_checked_and_applied_as_moto_does(case: str) -> None:
    # Given an update expression (parsed once and checked at its root when patched)
    expression, names = UPDATES[case]
    # When it runs twice, with other values, patched and not
    patched, original = (
        update_outcome(moto_patches.patched, *UPDATES[case]),
        update_outcome(moto_patches.unpatched, expression, names),
    )
    # Then the answers (items or errors) and the tables are the same
    assert patched == original
    if case == "many actions, all valid":
        assert patched["answers"][1]["a2"] == n(4) and patched["answers"][1]["count"] == n(1 + 1 + 3)
    else:
        assert all(isinstance(answer, tuple) and answer[0] == "ValidationException" for answer in patched["answers"])
