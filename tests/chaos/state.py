"""The complete final state of one connection, in a form two runs of one scenario can be compared in.

Read straight from the emulated tables. Ids the runs make up themselves are replaced by what they
stand for: a lead by its identity (phone, or user id), a conversation and a ticket by their lead, a
webhook log entry by the scenario document it logs (its archive key is the body's hash, and the two
runs post the same documents for different numbers). Left out, as the property test leaves them out
(tests/integration/test_concurrency_and_properties.py): processing times (``created_at``,
``received_at``, ``at``...), request ids, and who created a lead or a ticket first (``source``,
``originated_from``, ``opened_by``), which legitimately follow arrival order (the connection's count
of history-lead tickets, which follows them too, is compared as agreeing with its tickets), and a
chunk's content hash (its value names the run's own number).
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from whatrack.domain.messages import shown_status

VOLATILE = frozenset(
    {
        "pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk",
        "id", "organization_id", "connection_id", "conversation_id", "lead_id",
        "created_at", "updated_at", "received_at", "last_synced_at", "meta_confirmed_at", "correlation_id",
        "source", "originated_from", "opened_by", "log_id", "status_changed_at", "last_checked_at",
        "content_hash", "merged_into", "media_lease",
    }
)  # fmt: skip
MEDIA_VOLATILE = frozenset({"receivedAt", "retry"})
"""A media record's arrival time (its 7 days start when its webhook came, which each run's clock sets),
and how many retries were asked for (the faults run's downloads may have needed one)."""
CONNECTION_FIELDS = (
    "connection_status", "hs_status", "hs_phase", "hs_chunk_order", "hs_progress", "hs_error_code",
    "messages_imported", "contacts_imported", "threads_imported", "media_pending",
    "history_inbound", "history_outbound", "media_placeholders", "media_received",
    "files_pending", "files_stored", "files_failed", "files_expired", "files_unavailable", "files_too_large",
    "files_placeholder",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, set):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A dict of ``pairs`` where a repeated key is kept as ``key (again N)``: two things that one
    identity stands for are a difference to show, never one hidden behind the other."""
    out: dict[str, Any] = {}
    for key, value in sorted(pairs, key=lambda pair: (pair[0], repr(pair[1]))):
        name, n = key, 1
        while name in out:
            n += 1
            name = f"{key} (again {n})"
        out[name] = value
    return out


def scan(endpoint: str, table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    deserialize = TypeDeserializer().deserialize
    return [{k: _plain(deserialize(v)) for k, v in item.items()} for item in found]


ARRIVAL_ORDERED = frozenset({"edits"})
"""Lists kept in arrival order whose order means nothing (a message's edits are shown in time order)."""


def _kept(item: dict[str, Any]) -> dict[str, Any]:
    kept = {k: sorted(v) if k in ARRIVAL_ORDERED else v for k, v in sorted(item.items()) if k not in VOLATILE}
    if isinstance(kept.get("media"), str):
        media = json.loads(kept["media"])
        kept["media"] = {k: v for k, v in sorted(media.items()) if k not in MEDIA_VOLATILE}
    return kept


def _ticket_kept(item: dict[str, Any]) -> dict[str, Any]:
    """A ticket's product window follows its origin (§8.3: none for a history lead's), which follows
    arrival order (the history before or after the live message): kept as whether it agrees."""
    kept = _kept(item)
    window = kept.pop("message_window_expires_at", None)
    agrees = (window is None) == (item.get("originated_from") == "history_lead")
    kept["message_window_expires_at"] = "as its origin says" if agrees else window
    return kept


def _kept_file(message: dict[str, Any], connection_id: str) -> dict[str, Any]:
    """A stored file's key names its connection (each run has its own): kept as whether it does."""
    media = message.get("media")
    if isinstance(media, dict) and media.get("key"):
        where = "under its connection" if str(media["key"]).startswith(f"media/{connection_id}/") else media["key"]
        message = {**message, "media": {**media, "key": where}}
    return message


def files(endpoint: str, bucket: str, connection_id: str) -> dict[str, int]:
    """The connection's objects in the media bucket: how many, and their bytes."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    count = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"media/{connection_id}/"):
        for found in page.get("Contents", []):
            count, size = count + 1, size + int(found["Size"])
    return {"objects": count, "bytes": size}


def snapshot(
    endpoint: str,
    tables: dict[str, str],
    organization_id: str,
    connection_id: str,
    documents_by_archive_key: dict[str, int],
) -> dict[str, Any]:
    inbox = scan(endpoint, tables["InboxTable"])
    accounts = scan(endpoint, tables["AccountsTable"])
    logs = scan(endpoint, tables["LogTable"])

    leads = {
        i["id"]: i for i in inbox if str(i["pk"]).startswith("LEAD#") and i.get("organization_id") == organization_id
    }

    def survivor(lead_id: str) -> dict[str, Any]:
        lead = leads[lead_id]
        while lead.get("merged_into"):
            lead = leads[lead["merged_into"]]
        return lead

    def who(lead_id: str | None) -> str:
        if lead_id is None or lead_id not in leads:
            return f"unknown lead {lead_id}"
        lead = survivor(lead_id)
        return str(lead.get("phone_number") or f"user:{lead.get('user_id')}")

    conversations = {
        i["id"]: i for i in inbox if str(i["pk"]).startswith("CONV#") and i.get("connection_id") == connection_id
    }

    def holder(conversation_id: str) -> str:
        """Who a conversation belongs to (its lead's survivor), and whether it was retired."""
        conversation = conversations.get(conversation_id)
        if conversation is None:
            return f"no conversation {conversation_id}"
        return who(conversation.get("lead_id")) + (" (retired)" if conversation.get("merged_into") else "")

    stored = [i for i in inbox if str(i["pk"]).startswith(f"MSG#{connection_id}#")]
    replies = [i for i in stored if "conversation_id" in i and i.get("reply")]
    latest: dict[str, str] = {}
    for item in stored:
        if "conversation_id" in item:
            at = str(item.get("timestamp"))
            latest[item["conversation_id"]] = max(latest.get(item["conversation_id"], ""), at)

    def conversation_kept(conversation_id: str, conversation: dict[str, Any]) -> dict[str, Any]:
        """A conversation's latest message is an agent's reply's time in one run: kept as agreeing."""
        kept = _kept(conversation)
        if kept.get("last_message_at") is not None and kept["last_message_at"] == latest.get(conversation_id):
            kept["last_message_at"] = "its latest message's"
        return kept

    state: dict[str, Any] = {
        "leads": _unique([(who(i), _kept(lead)) for i, lead in leads.items() if not lead.get("merged_into")]),
        "merged": sorted(who(lead_id) for lead_id, lead in leads.items() if lead.get("merged_into")),
        # a retired conversation left empty is a tombstone whose existence follows arrival order (the
        # merged lead had a conversation here before the merge, or not); one that still holds messages stays
        "conversations": _unique(
            [
                (holder(i), conversation_kept(i, c))
                for i, c in conversations.items()
                if not (c.get("merged_into") and not c.get("message_count"))
            ]
        ),
        "messages": _unique(
            [
                (str(i["id"]), {**_kept_file(_kept(i), connection_id), "lead": holder(i["conversation_id"])})
                for i in stored
                if "conversation_id" in i and not i.get("reply")
            ]
        ),
        # an agent's reply is named by its run's ids and sent when the run got there: kept as what the
        # timeline shows of it (its body, its template, the status shown), by whom it answered
        "replies": _unique(
            [
                (
                    f"{holder(i['conversation_id'])}: {i.get('body')}",
                    {
                        "type": i.get("type"),
                        "template": json.loads(str(i["reply"])).get("template"),
                        "shown": shown_status(i.get("status"), None, i.get("delivery_status"), None)[0],
                        "has_wamid": bool(i.get("reply_wamid")),
                    },
                )
                for i in replies
            ]
        ),
        "stubs": _unique([(str(i["id"]), _kept(i)) for i in stored if "conversation_id" not in i]),
    }
    tickets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in inbox:
        if str(item["pk"]).startswith("TICKET#") and item.get("connection_id") == connection_id:
            kept = _ticket_kept(item)
            # moved by an agent's reply (CONTRACT §7): its time is the run's own, kept as agreeing
            if kept.get("last_message_at") is not None and kept["last_message_at"] == latest.get(
                str(item.get("conversation_id"))
            ):
                kept["last_message_at"] = "its latest message's"
            tickets[who(item.get("lead_id"))].append(kept)
    state["tickets"] = {lead: sorted(found, key=repr) for lead, found in sorted(tickets.items())}

    connection = next(i for i in accounts if i["pk"] == f"CONN#{connection_id}" and i["sk"] == "CONN")
    # a media count never moved is absent, one moved there and back is 0: the same count
    state["connection"] = {
        name: int(connection.get(name) or 0) if name.startswith("files_") else connection.get(name)
        for name in CONNECTION_FIELDS
    }
    # like ``originated_from``, which it counts, it follows arrival order: it must agree with the tickets
    from_history = sum(
        1
        for item in inbox
        if str(item["pk"]).startswith("TICKET#")
        and item.get("connection_id") == connection_id
        and item.get("originated_from") == "history_lead"
    )
    counted = int(connection.get("history_lead_tickets") or 0)
    state["connection"]["history_lead_tickets"] = "agrees with the tickets" if counted == from_history else counted
    state["chunks"] = {
        i["sk"]: _kept(i) for i in accounts if i["pk"] == f"CONN#{connection_id}" and str(i["sk"]).startswith("CHUNK#")
    }
    outcomes: dict[str, Any] = {}
    for entry in logs:
        if entry.get("kind") != "webhook" or entry.get("connection_id") not in (connection_id, None):
            continue
        document = documents_by_archive_key.get(str(entry.get("archive_key")))
        if document is None:
            continue  # another run's body
        where = f"{document}/{entry.get('entry_index')}/{entry.get('change_index')}"
        outcomes[where] = {
            "status": entry.get("status"),
            **({"error": entry["error"]} if entry.get("status") == "rejected" else {}),
        }
    state["log"] = dict(sorted(outcomes.items()))
    return state


def differences(expected: dict[str, Any], found: dict[str, Any], *, limit: int = 12) -> list[str]:
    """Where two snapshots differ, as readable lines (at most ``limit``)."""
    lines: list[str] = []

    def walk(path: str, a: Any, b: Any) -> None:
        if len(lines) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                if key not in a:
                    lines.append(f"{path}/{key}: only with faults: {str(b[key])[:160]}")
                elif key not in b:
                    lines.append(f"{path}/{key}: missing with faults (was {str(a[key])[:160]})")
                else:
                    walk(f"{path}/{key}", a[key], b[key])
                if len(lines) >= limit:
                    return
            return
        lines.append(f"{path}: {str(a)[:160]} without faults, {str(b)[:160]} with")

    walk("", expected, found)
    return lines
