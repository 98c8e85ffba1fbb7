"""The contract's error answers (CONTRACT §3), described on every operation of the OpenAPI document."""

from __future__ import annotations

import json

from whatrack.api.models import ErrorBody

ERROR_RESPONSES = {
    "400": "invalid input (body, path or query)",
    "401": "missing or unknown API key",
    "404": "not found (or another organization's)",
    "405": "method not allowed",
    "409": "conflict",
    "422": "valid shape, refused by a rule",
    "500": "our fault; safe to retry",
    "502": "Meta's Graph API failed; its error is in the message (a later call may try again)",
    "503": "a dependency is unavailable; safe to retry",
}


def document_contract_errors(document: str) -> str:
    """Describe the contract's error answers on every operation (Powertools documents its own 422)."""
    spec = json.loads(document)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    schemas.update(schemas["ErrorBody"].pop("$defs", {}))
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
                    },
                )
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    return json.dumps(spec)


def pretty(document: str) -> str:
    """The committed form of the document (``docs/openapi.json``): sorted, indented, UTF-8."""
    return json.dumps(json.loads(document), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
