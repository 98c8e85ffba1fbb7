"""Domain objects → wire models."""

from __future__ import annotations

from datetime import datetime

from whatrack.api.models import (
    Badge,
    ChunkOut,
    ConnectionOut,
    HistorySyncOut,
    OrganizationOut,
    ReportOut,
    SyncAlert,
    SyncError,
)
from whatrack.connections import BADGE_TOOLTIP, Connection, HistorySyncState, HistorySyncStatus
from whatrack.organizations import Organization


def organization_out(organization: Organization) -> OrganizationOut:
    return OrganizationOut(id=organization.id, name=organization.name, created_at=organization.created_at)


def history_sync_out(state: HistorySyncState, alert: tuple[str, datetime] | None = None) -> HistorySyncOut:
    error = (
        SyncError(code=state.error_code, message=state.error_message or "") if state.error_code is not None else None
    )
    return HistorySyncOut(
        status=state.status.value,
        status_label=state.label,
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
    )


def connection_out(connection: Connection, alert: tuple[str, datetime] | None = None) -> ConnectionOut:
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
        created_at=connection.created_at,
        history_sync=history_sync_out(connection.history, alert),
        badge=Badge(label=connection.history.badge_label(), tooltip=BADGE_TOOLTIP),
        history_leads_with_new_messages=connection.history_lead_tickets,
    )


def history_report(connection: Connection, chunks: list[ChunkOut]) -> ReportOut | None:
    """Completion report: present once the sync completed, kept current by late chunks."""
    state = connection.history
    if state.status is not HistorySyncStatus.COMPLETED:
        return None
    by_phase: dict[str, int] = {}
    for chunk in chunks:
        if chunk.status == "processed":
            by_phase[str(chunk.phase)] = by_phase.get(str(chunk.phase), 0) + chunk.messages
    return ReportOut(
        messages_by_phase=by_phase,
        messages_by_direction={"INBOUND": connection.history_inbound, "OUTBOUND": connection.history_outbound},
        threads=state.threads_imported,
        contacts=state.contacts_imported,
        media_placeholders=connection.media_placeholders,
        media_received=connection.media_received,
        chunk_gaps=chunk_gaps(chunks),
        duration_seconds=state.duration_seconds,
    )


def chunk_gaps(chunks: list[ChunkOut]) -> list[tuple[int, int]]:
    """Chunk orders missing inside each phase (between 1 and the highest order seen)."""
    seen: dict[int, set[int]] = {}
    for chunk in chunks:
        seen.setdefault(chunk.phase, set()).add(chunk.chunk_order)
    return [
        (phase, order) for phase in sorted(seen) for order in range(1, max(seen[phase]) + 1) if order not in seen[phase]
    ]
