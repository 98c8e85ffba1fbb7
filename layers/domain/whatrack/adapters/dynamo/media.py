"""Media state (InboxTable, on each message's own key ``MSG#<connection>#<wamid>``).

``media_state`` is what every move is conditional on; ``media_lease`` holds a pending file for one
download; ``gsi2`` lists the files a sweep or a retry looks for (``MEDIA#<connection>#<state>`` /
``<since>#<wamid>``). A move to another state updates the connection's counts in the same
transaction: one request. A download costs three: the claim (which answers the item), the
connection, the settle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo.connections import ConnectionItem, count_actions
from whatrack.adapters.dynamo.message_items import MessageItem, media_listing_actions
from whatrack.adapters.dynamo.tables import connection_key, message_key
from whatrack.adapters.dynamo.writes import get_or_none, storage, transact, update_if
from whatrack.domain.clock import iso, parse_iso
from whatrack.domain.counting import media_move
from whatrack.domain.errors import TransientError
from whatrack.domain.media import ClaimedMedia, ListedMedia, MediaHeldError, MediaState

_CONDITIONAL_FAILED = "ConditionalCheckFailedException"


class DynamoMediaStateStore:
    def claim(self, connection_id: str, wamid: str, now: datetime, lease_until: datetime) -> ClaimedMedia | None:
        item = MessageItem(*message_key(connection_id, wamid))
        free = MessageItem.media_lease.does_not_exist() | (MessageItem.media_lease < int(now.timestamp()))
        try:
            item.update(
                actions=[MessageItem.media_lease.set(int(lease_until.timestamp()))],
                condition=(MessageItem.media_state == MediaState.PENDING.value) & free,
            )
        except PynamoDBException as exc:
            if exc.cause_response_code != _CONDITIONAL_FAILED:
                raise TransientError(f"media claim failed ({exc.cause_response_code or type(exc).__name__})") from exc
            # refused: not pending any more (done), or held by another download (one more read, rare)
            current = get_or_none(MessageItem, message_key(connection_id, wamid), consistent_read=True)
            if current is not None and current.media_state == MediaState.PENDING.value:
                raise MediaHeldError(f"held until {current.media_lease}") from None
            return None
        return ClaimedMedia(media=dict(item.media or {}), organization_id=item.organization_id)

    def settle(self, connection_id: str, wamid: str, state: MediaState, media: dict[str, Any], now: datetime) -> bool:
        return self._move(connection_id, wamid, MediaState.PENDING, state, media, now)

    def note_attempt(self, connection_id: str, wamid: str, media: dict[str, Any]) -> bool:
        return update_if(
            MessageItem(*message_key(connection_id, wamid)),
            [MessageItem.media.set(media), MessageItem.media_lease.remove()],
            MessageItem.media_state == MediaState.PENDING.value,
            "media attempt",
        )

    def requeue(self, connection_id: str, wamid: str, state: MediaState, media: dict[str, Any], now: datetime) -> bool:
        if state is MediaState.PENDING:  # a sweep queued it again: a new place in the listing
            return update_if(
                MessageItem(*message_key(connection_id, wamid)),
                media_listing_actions(connection_id, wamid, MediaState.PENDING, now),
                MessageItem.media_state == MediaState.PENDING.value,
                "media requeue",
            )
        return self._move(connection_id, wamid, state, MediaState.PENDING, media, now)

    def give_up_placeholder(self, connection_id: str, wamid: str, media: dict[str, Any], now: datetime) -> bool:
        return self._move(connection_id, wamid, MediaState.PLACEHOLDER, MediaState.UNAVAILABLE, media, now)

    def _move(
        self,
        connection_id: str,
        wamid: str,
        before: MediaState,
        after: MediaState,
        media: dict[str, Any],
        now: datetime,
    ) -> bool:
        actions: list[Any] = [
            MessageItem.media_state.set(after.value),
            MessageItem.media_lease.remove(),
            MessageItem.media.set({**media, "state": after.value}),
            *media_listing_actions(connection_id, wamid, after, now),
        ]
        counts = count_actions(media_move(before, after))

        def write(tx: TransactWrite) -> None:
            tx.update(
                MessageItem(*message_key(connection_id, wamid)),
                actions=actions,
                condition=MessageItem.media_state == before.value,
            )
            # the counters, and the inbox's activity: the message's screens show the file from now
            tx.update(ConnectionItem(*connection_key(connection_id)), actions=[*counts, ConnectionItem.activity.add(1)])

        return transact("media move", write)

    def listed(
        self, connection_id: str, state: MediaState, *, before: datetime | None = None, limit: int = 100
    ) -> list[ListedMedia]:
        partition = f"MEDIA#{connection_id}#{state.value}"
        condition = MessageItem.gsi2sk < f"{iso(before)}" if before is not None else None
        with storage("media listing"):
            items = list(MessageItem.media_listed.query(partition, condition, limit=limit))
        return [
            ListedMedia(
                connection_id=connection_id,
                organization_id=item.organization_id,
                wamid=item.id,
                media=dict(item.media or {}),
                since=parse_iso(str(item.gsi2sk).split("#", 1)[0]) or item.timestamp,
            )
            for item in items
            if item.media_state == state.value
        ]
