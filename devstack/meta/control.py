"""The simulator's control API, for another process (``make demo`` against a running ``make run
META=simulator``, a developer with curl). Local only: it listens on 127.0.0.1 with the simulator.

* ``POST /_simulator/businesses`` ``{wabaId, phoneNumberIds, token?, code?, display?, verifiedName?}``:
  a business, its numbers and its token (answered);
* ``POST /_simulator/media`` ``{mimeType, contentBase64 | size, mediaId?, phoneNumberId?, ageSeconds?}``: a file
  Meta holds (answers its id and sha256);
* ``POST /_simulator/templates`` ``{wabaId, name, language?, body?, status?, category?}``: a template;
* ``POST /_simulator/webhooks`` with a webhook body: posted to the stack, signed, as Meta posts it;
* ``GET /_simulator/sent``: the sends Meta accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from devstack.meta.answers import Scripted
from devstack.meta.webhooks import NowhereToPost

if TYPE_CHECKING:
    from devstack.meta.simulator import MetaSimulator

PREFIX = "/_simulator/"


def _error(status: int, message: str) -> Scripted:
    return Scripted(status, {"error": {"code": "invalid_request", "message": message}})


def handle(simulator: MetaSimulator, method: str, path: str, raw: bytes) -> Scripted:
    name = path.removeprefix(PREFIX).split("?")[0].strip("/")
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return _error(400, "the body is not JSON")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    try:
        if (method, name) == ("POST", "businesses"):
            token = simulator.business(
                str(body["wabaId"]),
                *[str(n) for n in body["phoneNumberIds"]],
                **{k: str(body[f]) for k, f in _BUSINESS_OPTIONS.items() if body.get(f) is not None},
            )
            return Scripted(201, {"token": token})
        if (method, name) == ("POST", "media"):
            return Scripted(201, simulator.media.describe(_media(simulator, body)))
        if (method, name) == ("POST", "templates"):
            fields = {k: str(body[k]) for k in ("language", "body", "status", "category") if body.get(k)}
            made = simulator.template(str(body["wabaId"]), str(body["name"]), **fields)
            return Scripted(201, {"template": made.shape()})
        if (method, name) == ("POST", "webhooks"):
            try:
                return Scripted(200, {"status": simulator.deliver(body)})
            except NowhereToPost as error:
                return _error(409, str(error))
        if (method, name) == ("GET", "sent"):
            return Scripted(200, {"sent": [asdict(sent) for sent in simulator.messaging.sent]})
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        return _error(400, f"invalid or missing field: {error}")
    return _error(404, f"no such simulator call: {method} {path}")


_BUSINESS_OPTIONS = {"token": "token", "code": "code", "display": "display", "verified_name": "verifiedName"}


def _media(simulator: MetaSimulator, body: dict[str, Any]) -> Any:
    content = base64.b64decode(body["contentBase64"], validate=True) if "contentBase64" in body else None
    return simulator.add_media(
        content,
        media_id=str(body["mediaId"]) if body.get("mediaId") else None,
        mime_type=str(body.get("mimeType") or "image/jpeg"),
        size=int(body["size"]) if content is None else None,
        phone_number_id=str(body["phoneNumberId"]) if body.get("phoneNumberId") else None,
        age_seconds=float(body.get("ageSeconds") or 0),
    )
