"""Each number's send pace (:mod:`whatrack.domain.pacing`) on one AccountsTable item,
``PNID#<phone number id>`` / ``PACE``: its ``tat``, moved by conditional updates only, so that any
number of concurrent senders take distinct slots.

A send costs one ``UpdateItem`` while the number is idle (``tat`` in the past, or none) and two
while it is busy (the idle update is refused, then ``tat`` moves one interval on); a slot too far
ahead costs a third request, a read of where it is.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute

from whatrack.adapters.dynamo.tables import AccountsTableItem, pace_key
from whatrack.adapters.dynamo.writes import get_or_none, update_if
from whatrack.domain.pacing import Pace, slot_start


class PaceItem(AccountsTableItem):
    tat = NumberAttribute(null=True)


class DynamoSendPacer:
    def __init__(self, pace: Pace) -> None:
        self._pace = pace

    def reserve(self, phone_number_id: str, now: float) -> float | None:
        interval = self._pace.interval
        item = PaceItem(*pace_key(phone_number_id))
        # idle: the slot starts now
        idle = PaceItem.tat.does_not_exist() | (PaceItem.tat < now)
        if update_if(item, [PaceItem.tat.set(now + interval)], idle, "pace"):
            return now
        # busy: the slot after the last one taken, if it starts within max_wait
        busy = (PaceItem.tat >= now) & (PaceItem.tat <= now + self._pace.max_wait)
        if update_if(item, [PaceItem.tat.add(interval)], busy, "pace"):
            assert item.tat is not None  # the update read back the new value
            return float(item.tat) - interval
        return None

    def next_free(self, phone_number_id: str, now: float) -> float:
        item = get_or_none(PaceItem, pace_key(phone_number_id), consistent_read=True)
        return slot_start(None if item is None or item.tat is None else float(item.tat), now)
