"""Small helpers shared by the routers."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from pydantic import BaseModel

Limit = Annotated[int, Query(ge=1, le=500, description="page size (1-500)")]
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=2048, pattern=r"^[A-Za-z0-9_-]+$", description="nextCursor of the previous page"),
]
Latest = Annotated[
    bool,
    Query(
        description="1: the newest page of the conversation (oldest first within it); "
        "olderCursor, passed as cursor, fetches the page before it"
    ),
]


def conversation_cursors(following: str | None, latest: bool) -> dict[str, str | None]:
    """A conversation page's cursor, by its direction: with ``latest`` it leads to older messages."""
    return {"next_cursor": None, "older_cursor": following} if latest else {"next_cursor": following}


# no maximum here: API Gateway hands over ids still percent-encoded; too-long ids are simply unknown (404)
Id = Annotated[str, Path(min_length=1)]
Sort = Annotated[
    Literal["activity"] | None,
    Query(description="activity: latest message first (lastMessageAt descending), then those never messaged"),
]
IfNoneMatch = Annotated[
    str | None,
    Header(alias="If-None-Match", max_length=1024, description="the ETag of the copy the client has"),
]
ConnectionFilter = Annotated[str | None, Query(alias="connectionId", min_length=1, max_length=64)]


def json_response(model: Any, status: int = 200) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model)


def entity_tag(model: BaseModel, *versions: int) -> str:
    """A weak ETag of what ``model`` says and of ``versions`` (what changed behind it: a number's
    ``activity``), so that an unchanged screen is one small read (D-49)."""
    content = json.dumps([model.model_dump(mode="json"), versions], sort_keys=True, separators=(",", ":"))
    return f'W/"{hashlib.sha256(content.encode()).hexdigest()[:27]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """``If-None-Match`` (one tag, a list, or ``*``) names ``tag``; weak comparison (RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    opaque = tag.removeprefix("W/")
    return any(t.strip() == "*" or t.strip().removeprefix("W/") == opaque for t in if_none_match.split(","))


def conditional(model: BaseModel, if_none_match: str | None, *versions: int) -> Response[Any]:
    """``model`` with its ETag, or ``304 Not Modified`` (no body) when the client has it already."""
    tag = entity_tag(model, *versions)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if matches(if_none_match, tag):
        return Response(status_code=304, headers=headers, body=None)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=model, headers=headers)
