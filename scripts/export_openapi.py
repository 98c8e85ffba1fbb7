"""Write the status API's OpenAPI document to docs/openapi.json (`make openapi`)."""

from __future__ import annotations

import json
from pathlib import Path

from functions.status_api.app import openapi_document

TARGET = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def rendered() -> str:
    return json.dumps(json.loads(openapi_document()), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(rendered(), encoding="utf-8")
    print(f"wrote {TARGET}")
