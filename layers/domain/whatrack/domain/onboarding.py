"""Onboarding with Meta: the one-shot sync requests, the number a token may connect, its live state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

SYNC_REQUEST_WINDOW = timedelta(hours=24)
"""Meta accepts ``smb_app_data`` only within 24 h of onboarding (then: offboard and onboard again)."""
UNANSWERED_AFTER = timedelta(minutes=2)
"""A request whose answer was not recorded this long after its intent was saved lost its answer."""
COEXISTENCE_PLATFORM = "CLOUD_API"
TOKEN_INVALID_CODE = 190
"""Graph's ``OAuthException`` code for an expired or revoked token."""


class SyncType(StrEnum):
    CONTACTS = "smb_app_state_sync"
    HISTORY = "history"


class SyncOutcome(StrEnum):
    PENDING = "pending"
    """The intent is saved and Meta's answer is not recorded yet."""
    ACCEPTED = "accepted"
    """Meta answered with a ``request_id``: this sync type can never be requested again."""
    FAILED = "failed"
    """Meta answered with an error: a later call may try again."""
    UNKNOWN = "unknown"
    """The answer was lost (timeout, crash): Meta allows one request, so it is never re-sent blindly."""


@dataclass(frozen=True)
class SyncRequest:
    """One ``POST /{phone-number-id}/smb_app_data`` of a connection, from intent to answer."""

    sync_type: SyncType
    outcome: SyncOutcome
    requested_at: datetime
    request_id: str | None = None
    answered_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None

    def outcome_at(self, now: datetime) -> SyncOutcome:
        """``pending`` turns ``unknown`` once no answer can still come (the caller crashed)."""
        if self.outcome is SyncOutcome.PENDING and now - self.requested_at > UNANSWERED_AFTER:
            return SyncOutcome.UNKNOWN
        return self.outcome

    @property
    def may_be_sent(self) -> bool:
        """Only a request Meta refused may be sent again."""
        return self.outcome is SyncOutcome.FAILED


def sync_types_for(sync_history: bool) -> tuple[SyncType, ...]:
    """Meta's order: contacts first, then history (only when the business chose to share it)."""
    return (SyncType.CONTACTS, SyncType.HISTORY) if sync_history else (SyncType.CONTACTS,)


@dataclass(frozen=True)
class PhoneNumber:
    """A number of a WABA, as ``GET /{waba-id}/phone_numbers`` lists it."""

    id: str
    display_phone_number: str | None = None
    verified_name: str | None = None


@dataclass(frozen=True)
class NumberState:
    """``GET /{phone-number-id}?fields=is_on_biz_app,platform_type``."""

    is_on_biz_app: bool | None
    platform_type: str | None

    def coexistence_active(self) -> bool | None:
        """True for a coexistence number (App and Cloud API), False for a definite other answer,
        ``None`` when the answer does not say (never a reason to disconnect a business)."""
        if self.is_on_biz_app is True and self.platform_type == COEXISTENCE_PLATFORM:
            return True
        if self.is_on_biz_app is False or (self.platform_type is not None and self.is_on_biz_app is not None):
            return False
        return None
