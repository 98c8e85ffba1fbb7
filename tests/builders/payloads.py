"""Builders of Meta payloads (shapes of meta-webhooks.md) for tests."""

from __future__ import annotations

import copy
from typing import Any

WABA = "401122334455667"
PNID = "209988776655443"
BIZ = "5491155550100"


def envelope(field: str, value: dict[str, Any], phone_number_id: str = PNID) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": BIZ, "phone_number_id": phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": field, "value": value}]}],
    }


def text(
    wamid: str, sender: str | None, ts: int, body: str = "oi", status: str = "READ", **extra: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": wamid,
        "timestamp": str(ts),
        "type": "text",
        "text": {"body": body},
        "history_context": {"status": status},
        **extra,
    }
    if sender is not None:
        message["from"] = sender
    return message


def placeholder(wamid: str, sender: str, ts: int) -> dict[str, Any]:
    return {
        "id": wamid,
        "from": sender,
        "timestamp": str(ts),
        "type": "media_placeholder",
        "history_context": {"status": "DELIVERED"},
    }


def thread(customer: str | None, *messages: dict[str, Any], user_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"messages": list(messages)}
    if customer is not None:
        item["id"] = customer
    if user_id is not None or customer is not None:
        item["context"] = {k: v for k, v in (("wa_id", customer), ("user_id", user_id)) if v}
    return item


def chunk(phase: int, order: int, progress: int, *threads: dict[str, Any], pnid: str = PNID) -> dict[str, Any]:
    return envelope(
        "history",
        {
            "history": [
                {"metadata": {"phase": phase, "chunk_order": order, "progress": progress}, "threads": list(threads)}
            ]
        },
        pnid,
    )


def declined(code: int = 2593109) -> dict[str, Any]:
    return envelope(
        "history",
        {
            "history": [
                {
                    "errors": [
                        {
                            "code": code,
                            "title": "History sync is turned off",
                            "message": "History sync is turned off by the business",
                        }
                    ]
                }
            ]
        },
    )


def media_followup(wamid: str, customer: str, ts: int, *, outbound: bool = False) -> dict[str, Any]:
    image = {"mime_type": "image/jpeg", "sha256": "ab", "id": f"media-{wamid}", "caption": "foto"}
    if outbound:
        item = {"from": BIZ, "to": customer, "id": wamid, "timestamp": str(ts), "type": "image", "image": image}
        return envelope("history", {"contacts": [{"wa_id": customer}], "message_echoes": [item]})
    item = {"from": customer, "id": wamid, "timestamp": str(ts), "type": "image", "image": image}
    return envelope("history", {"contacts": [{"wa_id": customer}], "messages": [item]})


def contacts(*items: tuple[str, str, str | None]) -> dict[str, Any]:
    """``(action, phone, full name)`` items."""
    state = []
    for action, phone, name in items:
        contact: dict[str, Any] = {"phone_number": phone}
        if name:
            contact |= {"full_name": name, "first_name": name.split()[0]}
        state.append({"type": "contact", "contact": contact, "action": action, "metadata": {"timestamp": "1751401000"}})
    return envelope("smb_app_state_sync", {"state_sync": state})


def contact_sync(
    count: int, action: str = "add", ts: int = 1751401000, *, first: int = 0, user_ids: bool = False
) -> dict[str, Any]:
    """One ``smb_app_state_sync`` change of ``count`` contacts ``+551198`` + 7 digits (``first + i``) (a
    contact dump), all ``action`` at ``ts``; ``user_ids`` gives each a BSUID too."""
    state = []
    for i in range(first, first + count):
        contact: dict[str, Any] = {"phone_number": f"551198{i:07d}"}
        if action == "add":
            contact |= {"full_name": f"Contato {i}", "first_name": "Contato"}
        if user_ids:
            contact["user_id"] = f"BR.{i:010d}"
        state.append({"type": "contact", "contact": contact, "action": action, "metadata": {"timestamp": str(ts)}})
    return envelope("smb_app_state_sync", {"state_sync": state})


def live(wamid: str, customer: str, ts: int, body: str = "oi", name: str = "Cliente", **extra: Any) -> dict[str, Any]:
    message = {"from": customer, "id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": body}, **extra}
    return envelope("messages", {"contacts": [{"profile": {"name": name}, "wa_id": customer}], "messages": [message]})


def live_raw(wamid: str, customer: str, ts: int, kind: str, content: Any) -> dict[str, Any]:
    message = {"from": customer, "id": wamid, "timestamp": str(ts), "type": kind, kind: content}
    return envelope("messages", {"contacts": [{"wa_id": customer}], "messages": [message]})


def echo(wamid: str, customer: str, ts: int, body: str = "resposta") -> dict[str, Any]:
    item = {"from": BIZ, "to": customer, "id": wamid, "timestamp": str(ts), "type": "text", "text": {"body": body}}
    return envelope("smb_message_echoes", {"contacts": [{"wa_id": customer}], "message_echoes": [item]})


def revoke(wamid: str, original: str, customer: str, ts: int) -> dict[str, Any]:
    item = {
        "from": BIZ,
        "to": customer,
        "id": wamid,
        "timestamp": str(ts),
        "type": "revoke",
        "revoke": {"original_message_id": original},
    }
    return envelope("smb_message_echoes", {"message_echoes": [item]})


def status(
    wamid: str, value: str, ts: int, error_code: int | None = None, *, callback: str | None = None
) -> dict[str, Any]:
    """A status webhook; ``callback``: the ``biz_opaque_callback_data`` the send set (our replies')."""
    item: dict[str, Any] = {"id": wamid, "status": value, "timestamp": str(ts), "recipient_id": "5491166660001"}
    if error_code is not None:
        item["errors"] = [{"code": error_code, "title": "not delivered", "message": "not delivered"}]
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    return envelope("messages", {"statuses": [item]})


def account_update(event: str, time: int | None = None, waba_info: str | None = None) -> dict[str, Any]:
    """``time`` is ``entry[].time``; ``waba_info`` names the WABA the partner-level way (entry id differs)."""
    value: dict[str, Any] = {"phone_number": BIZ, "event": event}
    entry: dict[str, Any] = {"id": WABA, "changes": [{"field": "account_update", "value": value}]}
    if waba_info is not None:
        value["waba_info"] = {"waba_id": waba_info, "owner_business_id": "9911"}
        entry["id"] = "1122334455"  # the partner's business, not the WABA
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def for_number(document: dict[str, Any], phone_number_id: str, waba_id: str) -> dict[str, Any]:
    """A copy of a builder document for another number and WABA."""
    out = copy.deepcopy(document)
    for entry in out["entry"]:
        entry["id"] = waba_id
        for change in entry["changes"]:
            if "metadata" in change["value"]:
                change["value"]["metadata"]["phone_number_id"] = phone_number_id
    return out


def one_body(*documents: dict[str, Any]) -> dict[str, Any]:
    """The changes of several single-change bodies in one body (one entry), as Meta batches them."""
    first = documents[0]
    changes = [change for document in documents for change in document["entry"][0]["changes"]]
    return {**first, "entry": [{**first["entry"][0], "changes": changes}]}


def nested(depth: int) -> dict[str, Any]:
    """A value nested ``depth`` levels deep."""
    node: dict[str, Any] = {"leaf": "x"}
    for _ in range(depth - 1):
        node = {"n": node}
    return node
