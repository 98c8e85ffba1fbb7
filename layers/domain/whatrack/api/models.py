"""Wire models of the status API. Field names are snake_case in Python, camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints
from pydantic.alias_generators import to_camel

from whatrack.timeutil import iso

IsoTime = Annotated[datetime, PlainSerializer(iso, return_type=str)]


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


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


class SyncError(WireModel):
    code: str
    message: str


class SyncAlert(WireModel):
    code: Literal["no_history_received", "stalled"]
    since: IsoTime


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


class Badge(WireModel):
    label: str
    tooltip: str


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
    created_at: IsoTime
    history_sync: HistorySyncOut
    badge: Badge
    history_leads_with_new_messages: int = Field(ge=0)


class ConnectionEnvelope(WireModel):
    connection: ConnectionOut


class ConnectionList(WireModel):
    connections: list[ConnectionOut]
