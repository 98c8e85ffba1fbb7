"""The businesses the simulator knows: their WABAs, numbers, tokens and Embedded Signup codes, and the
calls about them (code exchange, a WABA's numbers, a number's state, sync requests)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from devstack.meta.answers import Scripted, invalid_token, meta_error, ok


@dataclass
class Accounts:
    app_id: str
    app_secret: str
    codes: dict[str, str] = field(default_factory=dict)  # Embedded Signup code -> token
    tokens: dict[str, set[str]] = field(default_factory=dict)  # token -> WABA ids it can read
    numbers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # WABA -> its numbers (Graph's shape)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # phone number id -> its fields
    sync_requests: list[tuple[str, str]] = field(default_factory=list)  # (phone number id, sync type)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def business(
        self,
        waba_id: str,
        *phone_number_ids: str,
        token: str = "EAAG-business-token",  # noqa: S107 - a made-up token of the simulated business
        code: str | None = None,
        display: str = "5491155550100",
        verified_name: str = "Loja Centro",
    ) -> str:
        """A WABA with its numbers, readable with ``token`` (and ``code`` exchanges for it)."""
        with self._lock:
            self.tokens.setdefault(token, set()).add(waba_id)
            known = {n["id"] for n in self.numbers.get(waba_id, [])}
            for index, pnid in enumerate(phone_number_ids):
                if pnid in known:
                    continue
                number = {"id": pnid, "display_phone_number": display if index == 0 else f"{display}{index}"}
                self.numbers.setdefault(waba_id, []).append({**number, "verified_name": verified_name})
                self.states[pnid] = {"is_on_biz_app": True, "platform_type": "CLOUD_API"}
            if code is not None:
                self.codes[code] = token
        return token

    # ------------------------------------------------------------------ who may do what
    def token_of(self, authorization: str | None) -> str | None:
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self._lock:
            return token if token in self.tokens else None

    def can_read(self, token: str, pnid: str) -> bool:
        with self._lock:
            return any(n["id"] == pnid for waba in self.tokens.get(token, ()) for n in self.numbers.get(waba, []))

    def can_read_waba(self, token: str, waba_id: str) -> bool:
        with self._lock:
            return waba_id in self.tokens.get(token, ())

    def number(self, pnid: str) -> dict[str, Any] | None:
        with self._lock:
            return next((n for numbers in self.numbers.values() for n in numbers if n["id"] == pnid), None)

    def waba_of(self, pnid: str) -> str | None:
        with self._lock:
            return next((w for w, numbers in self.numbers.items() if any(n["id"] == pnid for n in numbers)), None)

    def authorize(self, authorization: str | None, pnid: str) -> tuple[str | None, Scripted | None]:
        """The caller's token if it may act for ``pnid``; else Graph's refusal."""
        token = self.token_of(authorization)
        if token is None:
            return None, invalid_token()
        if not self.can_read(token, pnid):
            return None, meta_error(f"Unsupported request. Object with ID '{pnid}' does not exist", 100)
        return token, None

    # ------------------------------------------------------------------ the calls
    def exchange(self, query: dict[str, str]) -> Scripted:
        if query.get("client_id") != self.app_id or query.get("client_secret") != self.app_secret:
            return meta_error("Error validating client secret.", 1, 400)
        with self._lock:
            token = self.codes.pop(query.get("code", ""), None)
        if token is None:
            return meta_error("This authorization code has been used.", 100, 400)
        return ok({"access_token": token, "token_type": "bearer"})

    def phone_numbers(self, authorization: str | None, waba_id: str) -> Scripted:
        token = self.token_of(authorization)
        if token is None:
            return invalid_token()
        with self._lock:
            readable, numbers = waba_id in self.tokens[token], list(self.numbers.get(waba_id, []))
        if not readable:
            return meta_error(f"Unsupported get request. Object with ID '{waba_id}' does not exist", 100)
        return ok({"data": numbers})

    def state(self, authorization: str | None, pnid: str) -> Scripted:
        _, refused = self.authorize(authorization, pnid)
        with self._lock:
            fields = dict(self.states.get(pnid, {}))
        return refused or ok({"id": pnid, **fields})

    def request_sync(self, authorization: str | None, pnid: str, body: Any) -> Scripted:
        _, refused = self.authorize(authorization, pnid)
        if refused is not None:
            return refused
        sync_type = (body or {}).get("sync_type") if isinstance(body, dict) else None
        if sync_type not in ("smb_app_state_sync", "history"):
            return meta_error("(#100) Param sync_type must be one of {smb_app_state_sync, history}", 100)
        with self._lock:
            if (pnid, sync_type) in self.sync_requests:
                return meta_error("Sync has already been requested for this phone number", 131000)
            self.sync_requests.append((pnid, sync_type))
            request_id = f"req-{len(self.sync_requests)}"
        return ok({"messaging_product": "whatsapp", "request_id": request_id})
