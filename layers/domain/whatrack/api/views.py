"""Domain objects and read models → wire models, with the dashboard's Portuguese labels and badges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from whatrack.api.message_models import MessageErrorOut, TemplateUsedOut
from whatrack.api.models import (
    Badge,
    ChunkOut,
    ConnectionOut,
    ConversationSummary,
    HistorySyncOut,
    LeadOut,
    LogEntryOut,
    MediaCountsOut,
    MessageOut,
    OrganizationOut,
    ReportOut,
    SyncAlert,
    SyncError,
    SyncRequestOut,
    TicketOut,
)
from whatrack.domain.connections import Connection, HistorySyncState, HistorySyncStatus
from whatrack.domain.history import ChunkRecord, chunk_gaps, messages_by_phase
from whatrack.domain.inbox import Conversation, Lead, Ticket
from whatrack.domain.log import LogRecord
from whatrack.domain.media import SHOWN
from whatrack.domain.messages import Message
from whatrack.domain.onboarding import SyncRequest
from whatrack.domain.organizations import Organization
from whatrack.services.media_links import MediaLinks
from whatrack.services.sync_requests import request_refusal

STATUS_LABELS: dict[HistorySyncStatus, str] = {
    HistorySyncStatus.NOT_SUPPORTED: "Não suportado",
    HistorySyncStatus.NOT_REQUESTED: "Não solicitado",
    HistorySyncStatus.PENDING_CONSENT: "Aguardando consentimento",
    HistorySyncStatus.SYNCING: "Sincronizando histórico",
    HistorySyncStatus.COMPLETED: "Concluído",
    HistorySyncStatus.DECLINED: "Recusado pelo negócio",
    HistorySyncStatus.FAILED: "Falhou (ver detalhes)",
}

BADGE_TOOLTIP = "Histórico depende de aprovação no WhatsApp Business App"


def badge_label(state: HistorySyncState) -> str:
    if state.status is HistorySyncStatus.DECLINED:
        return "Histórico: Recusado"
    if state.status is HistorySyncStatus.FAILED:
        return "Histórico: Falhou"
    if state.status in (HistorySyncStatus.NOT_SUPPORTED, HistorySyncStatus.NOT_REQUESTED):
        return f"Histórico: {STATUS_LABELS[state.status]}"
    if state.status is HistorySyncStatus.COMPLETED:
        return "Histórico: 100%"
    return f"Histórico: {state.progress or 0}%"


def organization_out(organization: Organization) -> OrganizationOut:
    return OrganizationOut(id=organization.id, name=organization.name, created_at=organization.created_at)


def sync_request_out(request: SyncRequest, now: datetime) -> SyncRequestOut:
    error = (
        SyncError(code=request.error_code, message=request.error_message or "")
        if request.error_code is not None
        else None
    )
    return SyncRequestOut(
        sync_type=request.sync_type,
        request_id=request.request_id,
        requested_at=request.requested_at,
        outcome=request.outcome_at(now),
        error=error,
    )


def history_sync_out(
    connection: Connection, now: datetime, alert: tuple[str, datetime] | None = None
) -> HistorySyncOut:
    state = connection.history
    error = (
        SyncError(code=state.error_code, message=state.error_message or "") if state.error_code is not None else None
    )
    return HistorySyncOut(
        status=state.status.value,
        status_label=STATUS_LABELS[state.status],
        phase=state.phase,
        chunk_order=state.chunk_order,
        progress=state.progress,
        started_at=state.started_at,
        completed_at=state.completed_at,
        last_payload_at=state.last_payload_at,
        error=error,
        alert=SyncAlert.model_validate({"code": alert[0], "since": alert[1]}) if alert else None,
        messages_imported=state.messages_imported,
        contacts_imported=state.contacts_imported,
        threads_imported=state.threads_imported,
        media_pending=state.media_pending,
        duration_seconds=state.duration_seconds,
        requests=[sync_request_out(r, now) for r in connection.sync_requests],
        chunk_gaps=state.chunk_gaps,
        request_refusal=request_refusal(connection, now),
    )


def connection_out(connection: Connection, now: datetime, alert: tuple[str, datetime] | None = None) -> ConnectionOut:
    return ConnectionOut(
        id=connection.id,
        organization_id=connection.organization_id,
        phone_number_id=connection.phone_number_id,
        waba_id=connection.waba_id,
        display_phone_number=connection.display_phone_number,
        display_name=connection.display_name,
        mode=connection.mode.value,
        sync_history=connection.sync_history,
        connection_status=connection.connection_status.value,
        verified=connection.verified,
        has_access_token=connection.access_token_secret_id is not None,
        created_at=connection.created_at,
        history_sync=history_sync_out(connection, now, alert),
        badge=Badge(label=badge_label(connection.history), tooltip=BADGE_TOOLTIP),
        history_leads_with_new_messages=connection.history_lead_tickets,
        media=MediaCountsOut(**{state.value: max(0, connection.media_files.get(state.value, 0)) for state in SHOWN}),
    )


def chunk_out(chunk: ChunkRecord) -> ChunkOut:
    return ChunkOut.model_validate(chunk)


def history_report(connection: Connection, chunks: list[ChunkRecord]) -> ReportOut | None:
    """Completion report: present once the sync completed, kept current by late chunks."""
    state = connection.history
    if state.status is not HistorySyncStatus.COMPLETED:
        return None
    return ReportOut(
        messages_by_phase=messages_by_phase(chunks),
        messages_by_direction={"INBOUND": connection.history_inbound, "OUTBOUND": connection.history_outbound},
        threads=state.threads_imported,
        contacts=state.contacts_imported,
        media_placeholders=connection.media_placeholders,
        media_received=connection.media_received,
        chunk_gaps=chunk_gaps(chunks),
        duration_seconds=state.duration_seconds,
    )


def log_out(record: LogRecord) -> LogEntryOut:
    return LogEntryOut.model_validate(record)


def lead_out(lead: Lead) -> LeadOut:
    return LeadOut.model_validate(lead)


def conversation_summary(conversation: Conversation) -> ConversationSummary:
    return ConversationSummary.model_validate(conversation)


def message_out(message: Message, links: MediaLinks) -> MessageOut:
    out = MessageOut.model_validate(message)
    if message.reply is not None:
        out = out.model_copy(update=reply_fields(message))
    elif message.status == "failed" and message.error:
        out = out.model_copy(update={"failure": MessageErrorOut(code="delivery_failed", message=message.error)})
    if message.media is None or out.media is None:
        return out
    url, expires = links.link(message.media)
    if url is None:
        return out
    return out.model_copy(update={"media": out.media.model_copy(update={"url": url, "url_expires_at": expires})})


def ticket_out(ticket: Ticket) -> TicketOut:
    return TicketOut.model_validate(ticket)


def reply_fields(message: Message) -> dict[str, Any]:
    """An agent's reply as the contract shows it: its wamid as ``id`` (``null`` until Meta gives it),
    its ``clientMessageId``, its template, and why it failed: Meta's ``failed`` status when one came
    (``message.error``, which only a status sets on a reply), else our send's refusal. Only a failed
    reply shows an error: a reply Meta's status resolved shows none of an earlier lost answer."""
    record = message.reply or {}
    template = record.get("template")
    failure: MessageErrorOut | None = None
    if message.status == "failed":
        if message.error:
            code, _, text = message.error.partition(": ")
            failure = MessageErrorOut(code=code, message=text or message.error)
        elif isinstance(record.get("error"), dict):
            failure = MessageErrorOut.model_validate(record["error"])
    return {
        "id": message.reply_wamid,
        "client_message_id": message.id,
        "template": TemplateUsedOut.model_validate(template) if isinstance(template, dict) else None,
        "failure": failure,
    }
