"""Small helpers shared by the routers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

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
ConnectionFilter = Annotated[str | None, Query(alias="connectionId", min_length=1, max_length=64)]


def json_response(model: Any, status: int = 200) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model)
