"""Messages (InboxTable): unique per (connection, wamid), counted in the transaction that inserts them.

``MSG#<connection>#<wamid>`` is written under ``attribute_not_exists(conversation_id)``; the
counters it moves (the conversation's ``messageCount``, the connection's ``messagesImported``,
``mediaPending``...) are updated in the same transaction, so a redelivery, a crash between two
writes or a parallel consumer can never make them drift.

Meta's delivery statuses (``statuses[]``) go to their own attributes (``delivery_*``) of the same
key, message or not: a status that overtakes its message leaves a *stub* (the key and its
``delivery_*`` only: no conversation, so never listed nor counted), which the insert then
completes without touching them. The status shown is the higher of the two (``shown_status``),
so any interleaving of statuses and inserts ends the same, with no read and no extra request.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo.connections import ConnectionItem, count_actions
from whatrack.adapters.dynamo.conversations import ConversationItem, new_conversation_item, not_merged, upsert
from whatrack.adapters.dynamo.leads import LeadItem
from whatrack.adapters.dynamo.message_items import (
    STORED,
    MessageItem,
    annotation_update,
    media_listing_actions,
    message_item,
)
from whatrack.adapters.dynamo.tables import (
    MarkerItem,
    connection_key,
    conversation_key,
    history_thread_key,
    lead_key,
    message_key,
)
from whatrack.adapters.dynamo.writes import (
    CountedInsert,
    CountedUpdate,
    Fill,
    Increment,
    get_or_none,
    storage,
    transact,
    update_if,
    write_counted,
)
from whatrack.domain.annotations import Annotation, latest_of_each
from whatrack.domain.clock import utcnow
from whatrack.domain.counting import (
    CountedOn,
    insert_counts,
    media_move,
    media_state_of,
    restored_counts,
    restored_fields,
)
from whatrack.domain.errors import TransientError
from whatrack.domain.history import HistoryImportResult, ThreadImport, opening_times
from whatrack.domain.media import MediaState, listed_since
from whatrack.domain.messages import (
    MEDIA_PLACEHOLDER_TYPE,
    REVOKED_TYPE,
    STATUS_RANK,
    MessageSource,
    NewMessage,
)

MOVE_ROUNDS = 6


def _counted_message(
    organization_id: str, connection_id: str, conversation_id: str, message: NewMessage, *, history: bool
) -> CountedInsert:
    targets: dict[CountedOn, tuple[type[Any], Any]] = {
        CountedOn.CONVERSATION: (ConversationItem, conversation_key(conversation_id)),
        CountedOn.CONNECTION: (ConnectionItem, connection_key(connection_id)),
    }
    increments: list[Increment] = [
        (*targets[count.target], count.counter, count.amount) for count in insert_counts(message, history=history)
    ]
    restored: list[Increment] | None = (
        [(*targets[count.target], count.counter, count.amount) for count in restored_counts(message)]
        if history
        else None
    )
    return CountedInsert(
        message_item(organization_id, connection_id, conversation_id, message),
        increments,
        guards={conversation_key(conversation_id): not_merged()},
        stub_lacks="conversation_id",
        fills=partial(_fills, message, restored),
    )


def _fills(message: NewMessage, history_increments: list[Increment] | None) -> tuple[Fill, ...]:
    """What a history insert refused by a stored item still adds to it (built on refusal only)."""
    fills: list[Fill] = []
    if history_increments is not None:
        # the customer deleted it (a live revoke) before its history came: the tombstone takes its
        # content and history status, and it counts in the history counters (the conversation
        # counted the tombstone already); the live path does the same with ``restore_revoked``
        restore = _restored(message)
        if message.history_status is not None:
            restore.append(MessageItem.history_status.set(message.history_status))
        fills.append(
            Fill(
                actions=restore,
                condition=MessageItem.type == REVOKED_TYPE,
                has=(MessageItem.type.attr_name, REVOKED_TYPE),
                increments=history_increments,
            )
        )
    if message.type == MEDIA_PLACEHOLDER_TYPE and message.history_status is not None:
        # a placeholder whose media follow-up overtook it (stored without a history status) adds its
        # own, and its status if that is further along (a status never moves back)
        rank = STATUS_RANK.get(message.status or "", -1)
        actions: list[Any] = [MessageItem.history_status.set(message.history_status)]
        if message.status is not None:
            actions += [MessageItem.status.set(message.status), MessageItem.status_rank.set(rank)]
        behind = MessageItem.status_rank.does_not_exist() | (MessageItem.status_rank < rank)
        fills.append(
            Fill(
                actions=actions,
                condition=MessageItem.history_status.does_not_exist() & MessageItem.conversation_id.exists() & behind,
                lacks=MessageItem.history_status.attr_name,
            )
        )
    return tuple(fills)


def _restored(message: NewMessage) -> list[Any]:
    """What the original of a revoke sets on its tombstone: its content and status (it stays
    deleted, and in the tombstone's place in the conversation's order)."""
    return [getattr(MessageItem, name).set(value) for name, value in restored_fields(message).items()]


class DynamoMessageRepository:
    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock

    def import_history(
        self, organization_id: str, connection_id: str, threads: Sequence[ThreadImport]
    ) -> HistoryImportResult:
        """Insert a chunk's messages and thread markers with their counters (no read per message), and
        open the conversations of new customers (``opens_at``) with their first messages."""
        inserts: list[CountedInsert] = []
        latest = opening_times(threads)
        for thread in threads:
            if not thread.counted:  # a marker known to exist would only refuse the transaction
                inserts.append(
                    CountedInsert(
                        MarkerItem(*history_thread_key(connection_id, thread.conversation_id)),
                        [(ConnectionItem, connection_key(connection_id), "threads_imported", 1)],
                    )
                )
            if thread.opens_at is not None:  # a new customer: before its messages, which count in it
                conversation = new_conversation_item(
                    organization_id, thread.lead_id, connection_id, thread.opens_at, latest[thread.lead_id]
                )
                # in the same transaction, the lead must still be itself: a merge between the resolve
                # and here would leave this conversation outside it (the chunk is retried instead)
                alive = (LeadItem, lead_key(thread.lead_id), LeadItem.merged_into.does_not_exist())
                inserts.append(CountedInsert(conversation, checks=[alive]))
            inserts += [
                _counted_message(organization_id, connection_id, thread.conversation_id, m, history=True)
                for m in thread.messages
            ]
        inserted = write_counted(inserts)
        for insert in inserts:  # a conversation opened meanwhile (a parallel chunk): its time moves forward
            if isinstance(insert.item, ConversationItem) and insert.key not in inserted:
                item: ConversationItem = insert.item
                actions, condition = upsert(
                    organization_id, item.lead_id, connection_id, item.created_at, item.last_message_at
                )
                update_if(ConversationItem(*insert.key), actions, condition, "conversation upsert")
        return HistoryImportResult(
            new_messages=sum(1 for i in inserts if isinstance(i.item, MessageItem) and i.key in inserted),
            new_threads=sum(1 for i in inserts if isinstance(i.item, MarkerItem) and i.key in inserted),
        )

    def insert(
        self,
        organization_id: str,
        connection_id: str,
        conversation_id: str,
        message: NewMessage,
        *,
        history: bool = False,
    ) -> bool:
        """Insert one message if its wamid is new for the connection; True when inserted."""
        insert = _counted_message(organization_id, connection_id, conversation_id, message, history=history)
        return bool(write_counted([insert]))

    def move(self, connection_id: str, from_conversation: str, to_conversation: str) -> int:
        """§8.10: every message of a retired conversation moves to ``to_conversation``, each with its
        count, conditionally (a concurrent merge moves each once); until the source counts none (the
        index may lag behind the last inserts). The number moved by this call."""
        moved = 0
        for round_ in range(MOVE_ROUNDS):
            source = get_or_none(ConversationItem, conversation_key(from_conversation), consistent_read=True)
            if source is None or not source.message_count:
                return moved
            with storage("messages of a merged conversation"):
                items = list(MessageItem.by_conversation.query(f"CONV#{from_conversation}#MSGS"))
            counts: list[Increment] = [
                (ConversationItem, conversation_key(from_conversation), "message_count", -1),
                (ConversationItem, conversation_key(to_conversation), "message_count", 1),
            ]
            updates = [
                CountedUpdate(
                    MessageItem(m.pk, m.sk),
                    counts,
                    actions=[
                        MessageItem.conversation_id.set(to_conversation),
                        MessageItem.gsi1pk.set(f"CONV#{to_conversation}#MSGS"),
                    ],
                    condition=MessageItem.conversation_id == from_conversation,
                )
                for m in items
                if m.connection_id == connection_id
            ]
            moved += len(write_counted(updates))
            if not updates:
                time.sleep(0.05 * 2**round_)
        raise TransientError(f"messages of {from_conversation} were still arriving while merging")

    def fill_media(
        self, connection_id: str, wamid: str, media_type: str, media: dict[str, Any], body: str | None
    ) -> bool:
        """§8.8: fill a placeholder's media and type, exactly once, with the media's counts: no longer
        a pending placeholder, one more file in its new state (one less ``unavailable`` when the
        placeholder had been given up: a follow-up Meta sends anyway is still fetched)."""
        state = media_state_of(media)
        actions: list[Any] = [MessageItem.type.set(media_type), MessageItem.media.set(media)]
        if body:
            actions.append(MessageItem.body.set(body))
        if state is not None:
            actions.append(MessageItem.media_state.set(state.value))
            actions += media_listing_actions(connection_id, wamid, state, listed_since(media, self._clock()))
        stateless = MessageItem.media_state.does_not_exist()  # a placeholder stored before states were kept
        waiting = MessageItem.media_state == MediaState.PLACEHOLDER.value
        given_up = MessageItem.media_state == MediaState.UNAVAILABLE.value
        befores: tuple[tuple[MediaState | None, Any], ...] = (
            (MediaState.PLACEHOLDER, waiting),
            (MediaState.UNAVAILABLE, given_up),
            (None, stateless),
        )
        for before, was in befores:
            condition = (MessageItem.type == MEDIA_PLACEHOLDER_TYPE) & was
            counters: list[Any] = [ConnectionItem.media_pending.add(-1), ConnectionItem.media_received.add(1)]
            if state is not None:
                counters += count_actions(media_move(before, state))

            def write(tx: TransactWrite, condition: Any = condition, counters: list[Any] = counters) -> None:
                tx.update(MessageItem(*message_key(connection_id, wamid)), actions=actions, condition=condition)
                tx.update(ConnectionItem(*connection_key(connection_id)), actions=counters)

            if transact("media fill", write):
                return True
        return False

    def confirm_echo(self, connection_id: str, wamid: str, confirmed_at: datetime) -> None:
        """§8.7 known wamid: ``source: app_echo``, ``metaConfirmedAt`` set, status at least ``sent``."""
        item = MessageItem(*message_key(connection_id, wamid))
        with storage("echo confirm"):
            item.update(
                actions=[
                    MessageItem.source.set(MessageSource.APP_ECHO.value),
                    MessageItem.meta_confirmed_at.set(MessageItem.meta_confirmed_at | confirmed_at),
                ]
            )
        self.apply_status(connection_id, wamid, "sent", None)

    def restore_revoked(self, connection_id: str, message: NewMessage) -> bool:
        """The original of an earlier revoke arrived: keep it deleted, but with its content."""
        actions = _restored(message)
        return update_if(
            MessageItem(*message_key(connection_id, message.wamid)),
            actions,
            MessageItem.type == REVOKED_TYPE,
            "revoked restore",
        )

    def mark_deleted(self, connection_id: str, wamid: str) -> bool:
        return update_if(
            MessageItem(*message_key(connection_id, wamid)),
            [MessageItem.deleted.set(True)],
            STORED,
            "revoke",
        )

    def apply_status(self, connection_id: str, wamid: str, status: str, error: str | None) -> bool:
        """§8.9: only forward, past the message's own status too; ``failed`` records the error. A
        status of a message not stored yet is kept on its key (a stub). False when not applied."""
        rank = STATUS_RANK.get(status)
        if rank is None:
            return False
        actions: list[Any] = [MessageItem.delivery_status.set(status), MessageItem.delivery_rank.set(rank)]
        if error:
            actions.append(MessageItem.delivery_error.set(error))
        condition = (MessageItem.status_rank.does_not_exist() | (MessageItem.status_rank < rank)) & (
            MessageItem.delivery_rank.does_not_exist() | (MessageItem.delivery_rank < rank)
        )
        return update_if(MessageItem(*message_key(connection_id, wamid)), actions, condition, "status update")

    def annotate(self, connection_id: str, annotations: Sequence[Annotation]) -> int:
        """Reactions and edits on their targets' keys: one conditional update (alone) or transactions
        of up to 100 (a chunk's), in rounds that name each key once; a side's earlier reactions in
        the same call are never written, and a refused update (a later reaction or an edit already
        kept) is dropped."""
        rounds: list[list[CountedUpdate]] = []
        per_target: Counter[str] = Counter()
        for annotation in latest_of_each(annotations):
            seen = per_target[annotation.target]
            per_target[annotation.target] += 1
            if seen == len(rounds):
                rounds.append([])
            item, actions, condition = annotation_update(connection_id, annotation)
            rounds[seen].append(CountedUpdate(item, actions=actions, condition=condition))
        if len(rounds) == 1 and len(rounds[0]) == 1:  # a live one: a plain conditional update
            [only] = rounds[0]
            return int(update_if(only.item, only.actions, only.condition, "annotation"))
        return sum(len(write_counted(updates)) for updates in rounds)
