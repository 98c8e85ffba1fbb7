"""What an open inbox screen costs (issue 23): AWS requests a minute while nothing changes, and while
every turn finds news.

Every screen asks "anything new on this number?" each turn: ``GET /connections/{id}`` with the ETag
of its last answer, a ``304`` while nothing changed (D-49). Only an answer that changed makes it read
its own data again. Counted at botocore on the emulation (what AWS would bill), through the status
API's handler, on an organization with one complete onboarding and a live ticket. A warm function
remembers an API key for a minute: its two reads are paid once a minute per screen at most.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from benchmarks.chunk_import import counting
from benchmarks.dashboard import onboarded
from devstack.runtime import LambdaContext
from functions.status_api import app as status_app
from tests.builders.events import http_event

KEY_READS_PER_MINUTE = 2  # the key and its organization, read again once a minute by a warm function


class ScreenBenchError(AssertionError):
    """A screen's read did not answer what the dashboard needs: the figure would be wrong."""


@dataclass(frozen=True)
class Screen:
    """A dashboard screen: how often it asks, and what it reads when the answer changed."""

    name: str
    every_seconds: float
    reads: tuple[tuple[str, str], ...]  # (path, query) read again after a changed answer

    @property
    def asks_per_minute(self) -> float:
        return 60 / self.every_seconds


@dataclass
class World:
    key: str
    connection_id: str
    ticket_id: str
    lead_id: str
    conversation_id: str


def call(world: World, path: str, query: str = "", etag: str | None = None) -> tuple[int, int, str | None]:
    """(status, AWS requests, ETag) of one GET through the status API's handler."""
    headers = {"authorization": f"Bearer {world.key}", **({"if-none-match": etag} if etag else {})}
    with counting() as counts:
        result = status_app.lambda_handler(
            http_event("GET", path, query=query, headers=headers), LambdaContext("s", 512, 20)
        )
    status = int(result["statusCode"])
    if status not in (200, 304):
        raise ScreenBenchError(f"GET {path}?{query} answered {status}: {result.get('body')}")
    return status, sum(counts.values()), (result.get("headers") or {}).get("ETag")


def screens(world: World) -> list[Screen]:
    connection = world.connection_id
    return [
        Screen("ticket", 3, ((f"/tickets/{world.ticket_id}", "latest=1&limit=30"),)),
        Screen(
            "lead",
            3,
            (
                (f"/leads/{world.lead_id}", ""),
                (f"/conversations/{world.conversation_id}/messages", "latest=1&limit=30"),
                ("/tickets", f"connectionId={connection}&status=open&sort=activity&limit=100"),
            ),
        ),
        Screen(
            "leads_and_tickets",
            5,
            (
                ("/tickets", f"connectionId={connection}&sort=activity"),
                ("/leads", f"connectionId={connection}&sort=activity"),
            ),
        ),
        Screen(
            "details",
            10,
            ((f"/connections/{connection}/history-sync", ""), (f"/connections/{connection}/logs", "limit=50")),
        ),
    ]


def measure_world(world: World) -> dict[str, Any]:
    """Per screen: requests of an unchanged ask, of a turn that finds news, and a minute of each."""
    probe = f"/connections/{world.connection_id}"
    status, _, etag = call(world, probe)  # the key is remembered from here on (a warm function)
    if status != 200 or not etag:
        raise ScreenBenchError("the card answered no ETag")
    status, unchanged, _ = call(world, probe, etag=etag)
    if status != 304:
        raise ScreenBenchError(f"an unchanged card answered {status}, not 304")
    status, changed_ask, _ = call(world, probe, etag='W/"older"')
    if status != 200:
        raise ScreenBenchError(f"a changed card answered {status}")
    out: dict[str, Any] = {"ask_unchanged": unchanged, "ask_changed": changed_ask}
    for screen in screens(world):
        reads = sum(call(world, path, query)[1] for path, query in screen.reads)
        turn = changed_ask + reads
        out[screen.name] = {
            "every_seconds": screen.every_seconds,
            "idle_per_minute": screen.asks_per_minute * unchanged + KEY_READS_PER_MINUTE,
            "changing_per_minute": screen.asks_per_minute * turn + KEY_READS_PER_MINUTE,
            "turn_with_news": turn,
            # before issue 23's ETag and the remembered key: a ticket read its newest 30 every 3 s,
            # with its key, whatever changed; the other screens did not refresh at all
            "reads_without_ask": reads,
        }
    list_status, _, list_tag = call(world, "/connections")
    status, list_unchanged, _ = call(world, "/connections", etag=list_tag)
    if list_status != 200 or status != 304:
        raise ScreenBenchError("the card list answered no 304 to its own ETag")
    _, list_read, _ = call(world, "/connections")
    out["cards"] = {
        "every_seconds": 10,
        "idle_per_minute": 6 * list_unchanged + KEY_READS_PER_MINUTE,
        "changing_per_minute": 6 * list_read + KEY_READS_PER_MINUTE,
        "turn_with_news": list_read,
    }
    # the ticket screen before: GET /tickets/{id}?latest=1&limit=30 every 3 s with the key's two reads
    fresh_key_read = out["ticket"]["reads_without_ask"] + KEY_READS_PER_MINUTE
    out["ticket_before_per_minute"] = 20 * fresh_key_read
    return out


@contextmanager
def inbox_world() -> Iterator[World]:
    """An organization with one complete onboarding and a live ticket, on moto in this process."""
    with onboarded(live_messages=1) as (ob, connection):
        status, body = ob.api("GET", f"/tickets?connectionId={connection['id']}&sort=activity&limit=1")
        if status != 200 or not body["tickets"]:
            raise ScreenBenchError(f"no ticket to open: {status} {json.dumps(body)[:200]}")
        ticket = body["tickets"][0]
        yield World(ob.api_key, connection["id"], ticket["id"], ticket["leadId"], ticket["conversationId"])


def measure() -> dict[str, Any]:
    with inbox_world() as world:
        return measure_world(world)


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
