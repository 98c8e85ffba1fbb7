"""Builders of the message-fidelity shapes (``meta-webhooks.md`` §10): replies, forwards, reactions,
edits and the types without a body, as a live message, an App echo or a history message."""

from __future__ import annotations

from typing import Any

from tests.builders.payloads import BIZ, envelope

LOCATION = {"latitude": -23.561414, "longitude": -46.655881, "name": "Loja Paulista", "address": "Av. Paulista, 1000"}
CONTACTS = [{"name": {"formatted_name": "Ana Souza", "first_name": "Ana"}, "phones": [{"phone": "+55 11 95555-0101"}]}]
INTERACTIVE = {"type": "button_reply", "button_reply": {"id": "sim", "title": "Sim, quero"}}
LIST_REPLY = {"type": "list_reply", "list_reply": {"id": "p2", "title": "Plano Pro", "description": "12 meses"}}
BUTTON = {"text": "Quero saber mais", "payload": "MAIS_INFO"}
ORDER = {
    "catalog_id": "cat-1",
    "text": "Para entrega amanhã",
    "product_items": [
        {"product_retailer_id": "SKU-1", "quantity": 2, "item_price": 10.5, "currency": "BRL"},
        {"product_retailer_id": "SKU-9", "quantity": 1, "item_price": 99, "currency": "BRL"},
    ],
}
SYSTEM = {"body": "O cliente mudou de número", "type": "user_changed_number", "new_wa_id": "5491166660009"}
UNSUPPORTED_ERRORS = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown"}]
BODILESS = {
    "location": (LOCATION, "Loja Paulista, Av. Paulista, 1000 (-23.561414, -46.655881)"),
    "contacts": (CONTACTS, "Ana Souza (+55 11 95555-0101)"),
    "interactive": (INTERACTIVE, "Sim, quero"),
    "button": (BUTTON, "Quero saber mais"),
    "order": (ORDER, "Para entrega amanhã: 2 x SKU-1, 1 x SKU-9"),
    "system": (SYSTEM, "O cliente mudou de número"),
}
"""Each type without a body: (its content, the neutral summary it shows as ``body``)."""


def item(wamid: str, sender: str | None, ts: int, kind: str, content: Any, **extra: Any) -> dict[str, Any]:
    """A message object of any ``kind`` (its content under the key named like it)."""
    message: dict[str, Any] = {"id": wamid, "timestamp": str(ts), "type": kind, **extra}
    if content is not None:
        message[kind] = content
    if sender is not None:
        message["from"] = sender
    return message


def text(wamid: str, sender: str | None, ts: int, body: str, **extra: Any) -> dict[str, Any]:
    return item(wamid, sender, ts, "text", {"body": body}, **extra)


def reply_to(quoted: str, *, sender: str = BIZ) -> dict[str, Any]:
    """``context`` of a reply quoting ``quoted`` (sent by ``sender``)."""
    return {"context": {"from": sender, "id": quoted}}


FORWARDED = {"context": {"forwarded": True}}


def reaction(wamid: str, sender: str | None, ts: int, target: str, emoji: str) -> dict[str, Any]:
    return item(wamid, sender, ts, "reaction", {"message_id": target, "emoji": emoji})


def edit(wamid: str, sender: str | None, ts: int, target: str, body: str, *, kind: str = "text") -> dict[str, Any]:
    """An edit of ``target``: a text's new body, or a media message's new caption (``kind``)."""
    new = {"body": body} if kind == "text" else {"caption": body}
    return item(wamid, sender, ts, "edit", {"original_message_id": target, "message": {"type": kind, kind: new}})


def live(customer: str, *items: dict[str, Any], name: str = "Cliente") -> dict[str, Any]:
    """``messages`` webhook of the customer's ``items``."""
    return envelope("messages", {"contacts": [{"profile": {"name": name}, "wa_id": customer}], "messages": list(items)})


def echoes(customer: str, *items: dict[str, Any]) -> dict[str, Any]:
    """``smb_message_echoes`` of the business's ``items`` to ``customer``."""
    sent = [{**i, "to": customer} for i in items]
    return envelope("smb_message_echoes", {"contacts": [{"wa_id": customer}], "message_echoes": sent})


def in_history(*items: dict[str, Any], status: str = "READ") -> list[dict[str, Any]]:
    """``items`` as history messages (with their ``history_context``), for ``payloads.thread``."""
    return [{**i, "history_context": {"status": status}} for i in items]
