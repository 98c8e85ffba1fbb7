"""Pure rules of the domain: identity, direction, statuses, ticket origin, sync alerts, chunk gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from whatrack.domain.connections import (
    Connection,
    ConnectionMode,
    ConnectionStatus,
    HistorySyncState,
    HistorySyncStatus,
    sync_alert,
)
from whatrack.domain.history import ChunkRecord, ChunkStatus, chunk_gaps, messages_by_phase
from whatrack.domain.identity import ContactIdentity, canonical_phone, same_number
from whatrack.domain.inbox import Lead, LeadSource, TicketOrigin, initial_window, ticket_origin
from whatrack.domain.messages import Direction, direction_of, shown_status, status_from_history, status_rank

NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("5511966660001", "+5511966660001"),
        ("551166660001", "+5511966660001"),  # wa_id without the ninth digit
        ("+55 (11) 96666-0001", "+5511966660001"),
        ("551133330001", "+551133330001"),  # landline: no ninth digit added
        ("5491166660001", "+5491166660001"),
        ("", None),
        ("12", None),
        (None, None),
    ],
)
def test_canonical_phone(raw: str | None, e164: str | None) -> None:
    assert canonical_phone(raw) == e164


def test_same_number_ignores_formatting_and_the_ninth_digit() -> None:
    assert same_number("551166660001", "+55 11 96666-0001")
    assert not same_number("5511966660001", "5511966660002")
    assert not same_number(None, "5511966660001")


def test_identity_needs_phone_or_user_id() -> None:
    assert not ContactIdentity.of(wa_id="", user_id=" ").known
    assert ContactIdentity.of(user_id="BR.1").known


@pytest.mark.parametrize(
    ("sender", "direction"),
    [("5491155550100", Direction.OUTBOUND), ("5491166660001", Direction.INBOUND), (None, Direction.INBOUND)],
)
def test_direction_rule_8_4(sender: str | None, direction: Direction) -> None:
    assert direction_of(sender, "5491155550100") is direction


def test_history_statuses_any_case() -> None:
    assert [status_from_history(s) for s in ("READ", "read", "Delivered", "ERROR", "PLAYED", "weird", None)] == [
        "read",
        "read",
        "delivered",
        "failed",
        "played",
        None,
        None,
    ]
    assert status_rank("sent") < status_rank("delivered") < status_rank("read") < status_rank("failed")


def test_the_shown_status_is_the_higher_of_the_own_and_the_delivery_status() -> None:
    # a higher delivery status wins with its error; a tie or a lower one keeps the message's own
    assert shown_status("sent", None, "read", None) == ("read", None)
    assert shown_status("read", "own", "failed", "131049") == ("failed", "131049")
    assert shown_status("failed", "own", "failed", "131049") == ("failed", "own")
    assert shown_status("read", None, "delivered", None) == ("read", None)
    assert shown_status(None, None, "delivered", None) == ("delivered", None)
    assert shown_status(None, None, None, None) == (None, None)


def _lead(source: LeadSource, has_history: bool = False) -> Lead:
    return Lead(id="l", organization_id="o", source=source, has_history=has_history, created_at=NOW)


def test_ticket_origin_and_window_rule_8_3() -> None:
    assert (
        ticket_origin(_lead(LeadSource.HISTORY_SYNC), lead_created_by_live_traffic=False) is TicketOrigin.HISTORY_LEAD
    )
    assert (
        ticket_origin(_lead(LeadSource.STATE_SYNC, True), lead_created_by_live_traffic=False)
        is TicketOrigin.HISTORY_LEAD
    )
    assert ticket_origin(_lead(LeadSource.LIVE_MESSAGE), lead_created_by_live_traffic=True) is TicketOrigin.NEW_CONTACT
    assert ticket_origin(_lead(LeadSource.STATE_SYNC), lead_created_by_live_traffic=False) is TicketOrigin.EXISTING
    assert initial_window(TicketOrigin.HISTORY_LEAD, NOW) is None
    assert initial_window(TicketOrigin.NEW_CONTACT, NOW) == NOW + timedelta(hours=24)


def test_sync_alerts_no_history_and_stalled() -> None:
    created = datetime(2026, 11, 25, 12, tzinfo=UTC)
    stall = timedelta(minutes=30)

    def connection(status: HistorySyncStatus, last: datetime | None = None) -> Connection:
        return Connection(
            id="c",
            organization_id="o",
            phone_number_id="1",
            waba_id="2",
            display_phone_number=None,
            display_name=None,
            mode=ConnectionMode.COEXISTENCE,
            sync_history=True,
            connection_status=ConnectionStatus.ACTIVE,
            created_at=created,
            history=HistorySyncState(status=status, started_at=last, last_payload_at=last),
        )

    waiting = connection(HistorySyncStatus.PENDING_CONSENT)
    assert sync_alert(waiting, created + timedelta(minutes=29), stall) is None
    assert sync_alert(waiting, created + timedelta(hours=2), stall) == ("no_history_received", created + stall)
    syncing = connection(HistorySyncStatus.SYNCING, last=created + timedelta(hours=1))
    assert sync_alert(syncing, created + timedelta(hours=1, minutes=10), stall) is None
    assert sync_alert(syncing, created + timedelta(hours=3), stall) == ("stalled", created + timedelta(hours=1) + stall)
    assert sync_alert(connection(HistorySyncStatus.COMPLETED, last=created), created + timedelta(days=1), stall) is None


def test_chunk_gaps_and_messages_by_phase() -> None:
    def chunk(phase: int, order: int, messages: int, status: ChunkStatus = ChunkStatus.PROCESSED) -> ChunkRecord:
        return ChunkRecord(phase, order, 10, 1, messages, NOW, status)

    chunks = [chunk(0, 1, 5), chunk(0, 3, 2), chunk(1, 2, 4, ChunkStatus.FAILED), chunk(2, 1, 1)]
    assert chunk_gaps(chunks) == [(0, 2), (1, 1)]
    assert messages_by_phase(chunks) == {"0": 7, "2": 1}
