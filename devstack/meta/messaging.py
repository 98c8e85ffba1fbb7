"""Sends and templates, as the Cloud API takes them, and the status webhooks that follow a send.

``POST /{phone-number-id}/messages`` checks the body as Meta does (Meta's codes for what it refuses at
once), answers a new wamid, and then, like Meta, reports what happened through ``statuses`` webhooks:
``sent``, ``delivered``, ``read`` with a delay each, or ``failed`` with Meta's error. Free text to a
customer whose 24 h window is not open is *accepted* and then fails with 131047, as Meta usually
does. A window is open for 24 h after the customer's last message **that reached the business
through the simulator** (:meth:`Messaging.customer_wrote`, or a webhook posted with
:meth:`devstack.meta.MetaSimulator.deliver`): on Coexistence only live inbound messages open it.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from devstack.meta.accounts import Accounts
from devstack.meta.answers import GRAPH_ERROR_HELP, Scripted, invalid_token, meta_error, ok
from devstack.meta.webhooks import WebhookSender
from whatrack.domain.numbers import ASCII_DIGITS, is_ascii_number

WINDOW_SECONDS = 24 * 3600
TEXT_LIMIT = 4096
CALLBACK_LIMIT = 512
THROUGHPUT = 20
"""Sends a Coexistence number may make in any second (Meta's fixed throughput); past it: ``130429``."""
TYPES = frozenset({"text", "template", "reaction", "image", "audio", "video", "document", "sticker", "interactive"})
PLACEHOLDER = re.compile(r"\{\{\s*([^}\s]+)\s*\}\}")
REASONS: dict[int, tuple[str, str]] = {
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    131026: ("Message undeliverable", "Unable to deliver message. The recipient may not be a WhatsApp user."),
    131050: ("Unable to deliver the message", "The user has stopped marketing messages."),
    131049: ("Message not delivered to maintain healthy ecosystem engagement.", "Healthy ecosystem engagement."),
}


@dataclass
class Template:
    name: str
    language: str = "pt_BR"
    body: str = "Olá {{1}}! Podemos continuar o seu atendimento por aqui?"
    status: str = "APPROVED"
    category: str = "UTILITY"
    id: str = ""

    def shape(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "components": [{"type": "BODY", "text": self.body}],
            "id": self.id,
        }

    @property
    def parameters(self) -> int:
        return len(set(PLACEHOLDER.findall(self.body)))


@dataclass
class Sent:
    """One accepted send, as Meta took it."""

    wamid: str
    phone_number_id: str
    to: str
    body: dict[str, Any]
    at: float
    outcome: str
    """``read`` (delivered and read) or ``failed:<code>``."""


@dataclass
class StatusPlan:
    """When each status of an accepted send is posted (seconds after the send)."""

    sent: float = 0.3
    delivered: float = 1.0
    read: float | None = 3.0
    """``None``: the customer never reads it (it stays ``delivered``)."""


@dataclass
class Messaging:
    accounts: Accounts
    webhooks: WebhookSender
    clock: Callable[[], float] = time.time
    plan: StatusPlan = field(default_factory=StatusPlan)
    sent: list[Sent] = field(default_factory=list)
    windows: dict[tuple[str, str], float] = field(default_factory=dict)
    """(phone number id, customer wa_id) -> when the customer last wrote (unix seconds)."""
    failing: dict[str, int] = field(default_factory=dict)
    """Customer wa_id -> the code every send to them fails with (after a 200, as a ``failed`` status)."""
    templates: dict[str, list[Template]] = field(default_factory=dict)
    throughput: int | None = THROUGHPUT
    """Sends accepted per number in any 1-second span (``None``: no limit)."""
    throttled: int = 0
    """Sends refused with ``130429`` (throughput reached)."""
    _recent: dict[str, deque[float]] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ arranging
    def customer_wrote(self, phone_number_id: str, wa_id: str, at: float | None = None) -> None:
        """A live message of the customer reached the business: the 24 h window opens (or resets)."""
        when = self.clock() if at is None else at
        with self._lock:
            key = (phone_number_id, _digits(wa_id))
            self.windows[key] = max(self.windows.get(key, 0.0), when)

    def template(self, waba_id: str, name: str, **fields: Any) -> Template:
        with self._lock:
            made = Template(name, id=str(700_000_000_000 + next(self._counter)), **fields)
            self.templates.setdefault(waba_id, []).append(made)
        return made

    def window_open(self, phone_number_id: str, wa_id: str) -> bool:
        last = self.windows.get((phone_number_id, _digits(wa_id)))
        return last is not None and self.clock() - last < WINDOW_SECONDS

    # ------------------------------------------------------------------ the calls
    def send(self, authorization: str | None, pnid: str, body: Any) -> Scripted:
        _, refused = self.accounts.authorize(authorization, pnid)
        if refused is not None:
            return refused
        problem = self._invalid(pnid, body)
        if problem is not None:
            return problem
        if not self._within_throughput(pnid):
            return meta_error(
                "(#130429) Rate limit hit", 130429, details="Cloud API message throughput has been reached."
            )
        to = _digits(str(body["to"]))
        with self._lock:
            wamid = f"wamid.SIM{next(self._counter):012d}"
        outcome = self._outcome(pnid, to, body)
        record = Sent(wamid, pnid, to, body, self.clock(), outcome)
        with self._lock:
            self.sent.append(record)
        self._report(record)
        return ok(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": str(body["to"]), "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    def list_templates(self, authorization: str | None, waba_id: str, query: dict[str, str], base: str) -> Scripted:
        token = self.accounts.token_of(authorization)
        if token is None:
            return invalid_token()
        if not self.accounts.can_read_waba(token, waba_id):
            return meta_error(f"Unsupported get request. Object with ID '{waba_id}' does not exist", 100)
        limit = max(1, min(int(query.get("limit") or 25), 100)) if is_ascii_number(query.get("limit") or "25") else 25
        start = int(query["after"]) if is_ascii_number(query.get("after", "")) else 0
        every = self.templates.get(waba_id, [])
        page = every[start : start + limit]
        body: dict[str, Any] = {"data": [t.shape() for t in page]}
        if page:
            cursors = {"before": str(start), "after": str(start + len(page))}
            body["paging"] = {"cursors": cursors}
            if start + len(page) < len(every):
                body["paging"]["next"] = f"{base}/{waba_id}/message_templates?" + urlencode(
                    {**query, "after": cursors["after"]}
                )
        return ok(body)

    # ------------------------------------------------------------------ Meta's checks
    def _within_throughput(self, pnid: str) -> bool:
        """At most ``throughput`` accepted sends of a number in any second (a sliding window)."""
        with self._lock:
            if self.throughput is None:
                return True
            now = self.clock()
            recent = self._recent.setdefault(pnid, deque())
            while recent and now - recent[0] >= 1.0:
                recent.popleft()
            if len(recent) >= self.throughput:
                self.throttled += 1
                return False
            recent.append(now)
            return True

    def _invalid(self, pnid: str, body: Any) -> Scripted | None:
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return meta_error("(#100) The parameter messaging_product is required.", 100)
        if not _digits(str(body.get("to") or "")):
            return meta_error("(#100) The parameter to is required.", 100)
        kind = body.get("type", "text")
        if kind not in TYPES:
            return meta_error(f"(#100) Param type must be one of {{{', '.join(sorted(TYPES))}}}", 100)
        callback = body.get("biz_opaque_callback_data")
        if callback is not None and (not isinstance(callback, str) or len(callback) > CALLBACK_LIMIT):
            return meta_error("(#100) Param biz_opaque_callback_data must be at most 512 characters long.", 100)
        if kind == "text":
            text = (body.get("text") or {}).get("body") if isinstance(body.get("text"), dict) else None
            if not isinstance(text, str) or not text.strip():
                return meta_error("(#100) Param text['body'] is required.", 100)
            if len(text) > TEXT_LIMIT:
                return meta_error("(#100) Param text['body'] must be at most 4096 characters long.", 100)
        if kind == "template":
            return self._invalid_template(pnid, body.get("template"))
        return None

    def _invalid_template(self, pnid: str, template: Any) -> Scripted | None:
        if not isinstance(template, dict) or not template.get("name"):
            return meta_error("(#100) Param template['name'] is required.", 100)
        language = (template.get("language") or {}).get("code") if isinstance(template.get("language"), dict) else None
        found = next(
            (
                t
                for t in self.templates.get(self.accounts.waba_of(pnid) or "", [])
                if t.name == template["name"] and t.language == language and t.status == "APPROVED"
            ),
            None,
        )
        if found is None:
            return meta_error(
                f"(#132001) Template name does not exist in the translation: {template['name']} ({language})",
                132001,
                details=f"template name ({template['name']}) does not exist in {language}",
            )
        components = template.get("components") or []
        bodies = (
            [c for c in components if isinstance(c, dict) and str(c.get("type", "")).lower() == "body"]
            if isinstance(components, list)
            else []
        )
        if not isinstance(components, list) or any(not isinstance(c.get("parameters", []), list) for c in bodies):
            return meta_error("(#100) Param template['components'] must be an array of components with parameters", 100)
        given = sum(len(c.get("parameters") or []) for c in bodies)
        if given != found.parameters:
            return meta_error(
                "(#132000) Number of parameters does not match the expected number of params",
                132000,
                details=f"body: number of localizable_params ({given}) does not match the expected number of params "
                f"({found.parameters})",
            )
        return None

    def _outcome(self, pnid: str, to: str, body: dict[str, Any]) -> str:
        if to in self.failing:
            return f"failed:{self.failing[to]}"
        if body.get("type", "text") != "template" and not self.window_open(pnid, to):
            return "failed:131047"
        return "read" if self.plan.read is not None else "delivered"

    # ------------------------------------------------------------------ statuses
    def _report(self, record: Sent) -> None:
        steps: list[tuple[float, str]] = [(self.plan.sent, "sent")]
        if record.body.get("type") == "reaction" and not record.outcome.startswith("failed:"):
            pass  # a reaction the business sends gets a "sent" status only
        elif record.outcome.startswith("failed:"):
            steps.append((self.plan.delivered, "failed"))
        else:
            steps.append((self.plan.delivered, "delivered"))
            if self.plan.read is not None:
                steps.append((self.plan.read, "read"))
        for delay, status in steps:
            self.webhooks.send(self._status_webhook(record, status, record.at + delay), delay)

    def _status_webhook(self, record: Sent, status: str, at: float) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": record.wamid,
            "status": status,
            "timestamp": str(int(at)),
            "recipient_id": record.to,
        }
        if record.body.get("biz_opaque_callback_data"):
            entry["biz_opaque_callback_data"] = record.body["biz_opaque_callback_data"]
        if status in ("sent", "delivered"):
            category = self._category(record)
            entry["pricing"] = {"billable": category != "service", "pricing_model": "PMP", "category": category}
        if status == "failed":
            code = int(record.outcome.split(":", 1)[1])
            title, details = REASONS.get(code, ("Message failed", "Message failed to send."))
            entry["errors"] = [
                {
                    "code": code,
                    "title": title,
                    "message": title,
                    "error_data": {"details": details},
                    "href": GRAPH_ERROR_HELP,
                }
            ]
        number = self.accounts.number(record.phone_number_id) or {}
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": number.get("display_phone_number", ""),
                "phone_number_id": record.phone_number_id,
            },
            "statuses": [entry],
        }
        waba = self.accounts.waba_of(record.phone_number_id) or ""
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": waba, "changes": [{"field": "messages", "value": value}]}],
        }

    def _category(self, record: Sent) -> str:
        """What Meta bills the message as: a template's own category, else a service conversation."""
        if record.body.get("type") != "template":
            return "service"
        name = (record.body.get("template") or {}).get("name")
        waba = self.accounts.waba_of(record.phone_number_id) or ""
        found = next((t for t in self.templates.get(waba, []) if t.name == name), None)
        return found.category.lower() if found is not None else "utility"


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch in ASCII_DIGITS)
