"""Pure rules of the inbox: identity, direction, statuses, ticket origin, tolerant payload models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from whatrack.identity import ContactIdentity, canonical_phone, same_number
from whatrack.inbox import (
    Direction,
    Lead,
    LeadSource,
    TicketOrigin,
    direction_of,
    initial_window,
    status_from_history,
    status_rank,
    ticket_origin,
)
from whatrack.payloads import HistoryValue, MessageItem, Thread

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


def test_payload_models_tolerate_the_odd_shapes() -> None:
    value = HistoryValue.model_validate(
        {
            "metadata": {"phone_number_id": 209988776655443},
            "history": [
                {
                    "metadata": {"phase": 0, "chunk_order": 1, "progress": 100},
                    "threads": [
                        {
                            "id": "",
                            "context": {"user_id": "BR.9"},
                            "messages": [
                                {
                                    "from": "",
                                    "from_user_id": "BR.9",
                                    "id": "wamid.1",
                                    "timestamp": 1751400000,
                                    "type": "text",
                                    "text": {"body": "oi"},
                                    "history_context": {"status": "read", "from_me": False},
                                    "new_key": 1,
                                }
                            ],
                        }
                    ],
                },
                {"metadata": {"phase": 1, "chunk_order": 2, "progress": 50}},  # empty chunk
            ],
        }
    )
    [message] = value.history[0].threads[0].messages
    assert (message.from_, message.body, message.timestamp) == (None, "oi", 1751400000)
    identity = value.history[0].threads[0].counterpart("5491155550100")
    assert (identity.phone, identity.user_id) == (None, "BR.9")
    assert value.history[1].threads == []


def test_payload_models_reject_what_cannot_be_imported() -> None:
    with pytest.raises(ValidationError):
        MessageItem.model_validate({"id": "", "timestamp": "1"})
    with pytest.raises(ValidationError):
        HistoryValue.model_validate(
            {
                "metadata": {"phone_number_id": "1"},
                "history": [{"metadata": {"phase": 0, "chunk_order": 1, "progress": 101}}],
            }
        )


def test_media_of_placeholder_and_followup() -> None:
    placeholder = MessageItem.model_validate({"id": "w", "timestamp": "1", "type": "media_placeholder"})
    assert placeholder.media == {"id": None, "mimeType": None, "caption": None}
    image = MessageItem.model_validate(
        {"id": "w", "timestamp": "1", "type": "image", "image": {"id": "m1", "mime_type": "image/jpeg", "caption": "c"}}
    )
    assert image.media == {"id": "m1", "mimeType": "image/jpeg", "caption": "c"} and image.body == "c"
    thread = Thread.model_validate({"messages": [{"from": "5491155550100", "id": "w", "timestamp": "1"}]})
    assert not thread.counterpart("5491155550100").known
