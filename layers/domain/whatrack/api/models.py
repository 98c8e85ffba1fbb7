"""Wire models of the status API. Field names are snake_case in Python, camelCase on the wire."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

from whatrack.api.message_models import MediaOut, MessageList, MessageOut, ReactionOut, VersionOut
from whatrack.api.wire import IsoTime, WireModel
from whatrack.domain.connections import ConnectionMode, ConnectionRequest
from whatrack.domain.onboarding import SyncOutcome, SyncType

__all__ = ["IsoTime", "MediaOut", "MessageList", "MessageOut", "ReactionOut", "VersionOut", "WireModel"]


class ErrorDetail(WireModel):
    code: str
    message: str


class ErrorBody(WireModel):
    error: ErrorDetail


class NewOrganization(WireModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OrganizationOut(WireModel):
    id: str
    name: str
    created_at: IsoTime


class CreatedOrganization(WireModel):
    organization: OrganizationOut
    api_key: str


Digits = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{3,32}$")]
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]+$")]
"""Meta's tokens and codes: visible ASCII (they travel in an Authorization header or a query)."""


class NewConnection(BaseModel):
    """Validated input of ``POST /connections`` (camelCase on the wire)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", str_strip_whitespace=True)

    phone_number_id: Digits = Field(alias="phoneNumberId")
    waba_id: Digits = Field(alias="wabaId")
    display_phone_number: Annotated[str, StringConstraints(max_length=32, pattern=r"^\+?[\d\s().-]{3,32}$")] | None = (
        Field(default=None, alias="displayPhoneNumber")
    )
    mode: ConnectionMode
    sync_history: StrictBool = Field(default=False, alias="syncHistory")
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, alias="displayName"
    )
    access_token: Token | None = Field(default=None, alias="accessToken", repr=False)

    def to_request(self) -> ConnectionRequest:
        return ConnectionRequest(
            phone_number_id=self.phone_number_id,
            waba_id=self.waba_id,
            mode=self.mode,
            sync_history=self.sync_history,
            display_phone_number=self.display_phone_number,
            display_name=self.display_name,
            access_token=self.access_token,
        )


class EmbeddedSignupBody(BaseModel):
    """``POST /connections/embedded-signup``: what Meta's Embedded Signup gave the browser."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", str_strip_whitespace=True)

    code: Token = Field(repr=False)
    waba_id: Digits = Field(alias="wabaId")
    phone_number_id: Digits | None = Field(default=None, alias="phoneNumberId")
    display_phone_number: Annotated[str, StringConstraints(max_length=32, pattern=r"^\+?[\d\s().-]{3,32}$")] | None = (
        Field(default=None, alias="displayPhoneNumber")
    )
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, alias="displayName"
    )
    mode: ConnectionMode = ConnectionMode.COEXISTENCE
    sync_history: StrictBool = Field(default=False, alias="syncHistory")


class SyncError(WireModel):
    code: str
    message: str


class SyncAlert(WireModel):
    code: Literal["no_history_received", "stalled"]
    since: IsoTime


class SyncRequestOut(WireModel):
    """One ``smb_app_data`` request: ``pending`` until Meta answers, ``unknown`` when the answer was lost."""

    sync_type: SyncType
    request_id: str | None
    requested_at: IsoTime
    outcome: SyncOutcome
    error: SyncError | None


class SyncRequestList(WireModel):
    requests: list[SyncRequestOut]


class RetryResult(WireModel):
    retried: int = Field(ge=0)


class HistorySyncOut(WireModel):
    status: str
    status_label: str
    phase: int | None
    chunk_order: int | None
    progress: int | None
    started_at: IsoTime | None
    completed_at: IsoTime | None
    last_payload_at: IsoTime | None
    error: SyncError | None
    alert: SyncAlert | None
    messages_imported: int
    contacts_imported: int
    threads_imported: int
    media_pending: int
    duration_seconds: int | None
    requests: list[SyncRequestOut]
    chunk_gaps: list[tuple[int, int]]
    """``[phase, chunkOrder]`` missing below the highest chunk order seen in each phase (the card's gaps)."""
    request_refusal: str | None
    """Why ``POST .../history-sync/request`` would be refused now (its error code), ``null`` when it can work."""


class Badge(WireModel):
    label: str
    tooltip: str


class MediaCountsOut(WireModel):
    """Its messages' media files by state (CONTRACT §6 ``media``)."""

    pending: int = 0
    stored: int = 0
    failed: int = 0
    expired: int = 0
    unavailable: int = 0
    too_large: int = 0


class ConnectionOut(WireModel):
    id: str
    organization_id: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str | None
    display_name: str | None
    mode: str
    sync_history: bool
    connection_status: str
    verified: bool
    has_access_token: bool
    """Whether Meta can be asked anything for this number (sync requests, checks, media, replies)."""
    created_at: IsoTime
    history_sync: HistorySyncOut
    badge: Badge
    history_leads_with_new_messages: int = Field(ge=0)
    media: MediaCountsOut


class ConnectionEnvelope(WireModel):
    connection: ConnectionOut


class ConnectionList(WireModel):
    connections: list[ConnectionOut]


class ChunkOut(WireModel):
    phase: int
    chunk_order: int
    progress: int
    threads: int
    messages: int
    received_at: IsoTime
    status: Literal["processed", "failed", "pending"]


class ReportOut(WireModel):
    messages_by_phase: dict[str, int]
    messages_by_direction: dict[str, int]
    threads: int
    contacts: int
    media_placeholders: int
    media_received: int
    chunk_gaps: list[tuple[int, int]]
    duration_seconds: int | None


class HistorySyncDetail(WireModel):
    history_sync: HistorySyncOut
    chunks: list[ChunkOut]
    report: ReportOut | None


class LogEntryOut(WireModel):
    id: str
    at: IsoTime
    kind: Literal["webhook", "audit"]
    field: str | None
    event: str | None
    status: str | None
    error: str | None
    archive_key: str | None


class LogList(WireModel):
    logs: list[LogEntryOut]
    next_cursor: str | None


class LeadOut(WireModel):
    id: str
    organization_id: str
    phone_number: str | None
    wa_id: str | None
    user_id: str | None
    push_name: str | None
    source: Literal["direct_creation", "live_message", "history_sync", "state_sync"]
    is_active: bool
    has_history: bool
    created_at: IsoTime
    last_message_at: IsoTime | None
    last_synced_at: IsoTime | None
    deleted_at: IsoTime | None


class LeadList(WireModel):
    leads: list[LeadOut]
    next_cursor: str | None


class ConversationSummary(WireModel):
    id: str
    connection_id: str
    last_message_at: IsoTime | None
    message_count: int


class LeadDetail(WireModel):
    lead: LeadOut
    conversations: list[ConversationSummary]


class TicketOut(WireModel):
    id: str
    organization_id: str
    connection_id: str
    lead_id: str
    conversation_id: str
    source: Literal["incoming_message", "api", "manual"]
    originated_from: Literal["new_contact", "history_lead", "existing"]
    stage: str
    status: Literal["open", "closed"]
    message_window_expires_at: IsoTime | None
    created_at: IsoTime
    last_message_at: IsoTime
    customer_service_window_ends_at: IsoTime | None = None
    """Meta's window: the latest live inbound message + 24 h (``null``: no live message since onboarding)."""
    closed_at: IsoTime | None = None
    """When it was closed (``null`` while open)."""


class TicketList(WireModel):
    tickets: list[TicketOut]
    next_cursor: str | None


class TicketDetailOut(TicketOut):
    lead: LeadOut
    messages: list[MessageOut]


class TicketDetail(WireModel):
    ticket: TicketDetailOut
    next_cursor: str | None
    older_cursor: str | None = Field(default=None, description="with latest=1: the page before this one")


class TicketEnvelope(WireModel):
    ticket: TicketOut


class TemplateOut(WireModel):
    """An approved message template (``body``: its BODY text with the ``{{1}}``… placeholders)."""

    name: str
    language: str
    category: str | None
    body: str | None
    parameter_count: int


class TemplateList(WireModel):
    templates: list[TemplateOut]


class TemplateBody(WireModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)] = "pt_BR"
    parameters: Annotated[list[Annotated[str, StringConstraints(max_length=1024)]], Field(max_length=30)] = []


class ReplyBody(WireModel):
    """``POST /tickets/{id}/messages`` (CONTRACT §7a): free text (perhaps quoting a message), or a template."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    reply_to_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    preview_url: bool = False
    template: TemplateBody | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ReplyBody:
        if (self.text is None) == (self.template is None):
            raise ValueError("give either text or template")
        if self.template is not None and (self.reply_to_id is not None or self.preview_url):
            raise ValueError("replyToId and previewUrl go with text only")
        return self


class ReplyEnvelope(WireModel):
    message: MessageOut


class NewLead(WireModel):
    """``POST /leads`` (CONTRACT §7a): a person the business wants to talk to."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    phone_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    push_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class LeadEnvelope(WireModel):
    lead: LeadOut


class NewTicket(WireModel):
    """``POST /tickets`` (CONTRACT §7a): a conversation an agent (``manual``) or an integration (``api``) starts."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    lead_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    connection_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    source: Literal["manual", "api"] = "api"


class TicketPatch(WireModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    status: Literal["closed", "open"]
