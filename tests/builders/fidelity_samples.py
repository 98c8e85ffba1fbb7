"""Raw Meta samples of the message-fidelity shapes (``meta-webhooks.md`` §10), part of ``SAMPLES``.

They quote, react to and edit the other samples' messages: ``history_chunk``'s customer message
(``W_IN``), ``messages_text``'s live message and ``echo_text``'s App echo; delivered after those,
they show on them, delivered before, they wait for them.
"""

from __future__ import annotations

from typing import Any

from tests.builders import fidelity as f
from tests.builders.payloads import BIZ, chunk, thread

CUSTOMER = "5491166660001"
W_IN = "wamid.HBgNNTQ5MTE2NjY2MDAwMRUCABIYFkFBQkJDQ0RERUVGRjAwMTEyMjMzNDQA"
W_LIVE = "wamid.LIVE1"
W_ECHO = "wamid.ECHO1"
T = 1751403100


def _live(wamid: str, kind: str, content: Any, **extra: Any) -> dict[str, Any]:
    return f.live(CUSTOMER, f.item(wamid, CUSTOMER, T, kind, content, **extra), name="Lucía F.")


def _echo(wamid: str, kind: str, content: Any, **extra: Any) -> dict[str, Any]:
    return f.echoes(CUSTOMER, f.item(wamid, BIZ, T + 60, kind, content, **extra))


FIDELITY_SAMPLES: dict[str, Any] = {
    # replies and forwards (context)
    "messages_reply": _live("wamid.REPLY1", "text", {"body": "Pode ser azul"}, **f.reply_to(W_ECHO)),
    "messages_forwarded": _live("wamid.FWD1", "text", {"body": "Olha essa promoção"}, context={"forwarded": True}),
    "echo_reply": _echo(
        "wamid.ECHOREPLY1", "text", {"body": "Anotado!"}, **f.reply_to("wamid.REPLY1", sender=CUSTOMER)
    ),
    # reactions: never a message; an empty emoji removes
    "messages_reaction": _live("wamid.REACT1", "reaction", {"message_id": W_ECHO, "emoji": "👍"}),
    "messages_reaction_removed": f.live(CUSTOMER, f.reaction("wamid.REACT2", CUSTOMER, T + 30, W_ECHO, "")),
    "echo_reaction": _echo("wamid.ECHOREACT1", "reaction", {"message_id": W_LIVE, "emoji": "❤️"}),
    # edits: the customer's (messages) and the business's in the App (echoes)
    "messages_edit": f.live(CUSTOMER, f.edit("wamid.EDIT1", CUSTOMER, T + 120, W_LIVE, "¿Hacen envíos a Rosario?")),
    "echo_edit": f.echoes(
        CUSTOMER, f.edit("wamid.ECHOEDIT1", BIZ, T + 180, W_ECHO, "Sí, te lo reservo hasta el lunes.")
    ),
    "messages_edit_unsupported": _live(
        "wamid.EDITUNSUP1",
        "unsupported",
        None,
        errors=[{"code": 131051, "title": "Message type unknown", "message": "Message type unknown"}],
    ),
    # a customer's delete for everyone
    "messages_revoke": _live("wamid.REVOKE1", "revoke", {"original_message_id": "wamid.FWD1"}),
    # types without a body: a readable summary, the raw object kept
    "messages_location": _live("wamid.LOC1", "location", f.LOCATION),
    "messages_contacts": _live("wamid.CONTACTS1", "contacts", f.CONTACTS),
    "messages_interactive_button_reply": _live("wamid.INTBTN1", "interactive", f.INTERACTIVE),
    "messages_interactive_list_reply": _live("wamid.INTLIST1", "interactive", f.LIST_REPLY),
    "messages_button": _live("wamid.BUTTON1", "button", f.BUTTON, **f.reply_to(W_ECHO)),
    "messages_order": _live("wamid.ORDER1", "order", f.ORDER),
    "messages_system": _live("wamid.SYSTEM1", "system", f.SYSTEM),
    "messages_unknown_type": _live("wamid.POLL1", "poll", {"question": "Qual cor?", "options": ["azul", "verde"]}),
    # the same shapes in a history chunk: a reply, a reaction of each side, an edit, a location
    "history_chunk_fidelity": chunk(
        1,
        5,
        70,
        thread(
            CUSTOMER,
            *f.in_history(
                f.text("wamid.HREPLY1", BIZ, 1751400200, "Temos sim", **f.reply_to(W_IN, sender=CUSTOMER)),
                f.reaction("wamid.HREACT1", CUSTOMER, 1751400300, "wamid.HREPLY1", "🎉"),
                f.reaction("wamid.HREACT2", BIZ, 1751400400, W_IN, "👀"),
                f.edit("wamid.HEDIT1", BIZ, 1751400500, "wamid.HREPLY1", "Temos sim, em 3 cores"),
                f.item("wamid.HLOC1", BIZ, 1751400600, "location", f.LOCATION, **f.FORWARDED),
            ),
        ),
    ),
}
