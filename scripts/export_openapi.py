"""Write the status API's OpenAPI document to docs/openapi.json (`make openapi`)."""

from __future__ import annotations

from pathlib import Path

from functions.status_api.app import openapi_document
from whatrack.api.openapi import pretty

TARGET = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


if __name__ == "__main__":
    TARGET.write_text(pretty(openapi_document()), encoding="utf-8")
    print(f"wrote {TARGET}")
