"""Domain objects → wire models."""

from __future__ import annotations

from whatrack.api.models import (
    Badge,
    ConnectionOut,
    HistorySyncOut,
    OrganizationOut,
    SyncAlert,
    SyncError,
)
from whatrack.connections import BADGE_TOOLTIP, Connection, HistorySyncState
from whatrack.organizations import Organization


def organization_out(organization: Organization) -> OrganizationOut:
    return OrganizationOut(id=organization.id, name=organization.name, created_at=organization.created_at)


def history_sync_out(state: HistorySyncState) -> HistorySyncOut:
    error = (
        SyncError(code=state.error_code, message=state.error_message or "") if state.error_code is not None else None
    )
    alert = (
        SyncAlert.model_validate({"code": state.alert_code, "since": state.alert_since})
        if state.alert_code is not None and state.alert_since is not None
        else None
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
        alert=alert,
        messages_imported=state.messages_imported,
        contacts_imported=state.contacts_imported,
        threads_imported=state.threads_imported,
        media_pending=state.media_pending,
        duration_seconds=state.duration_seconds,
    )


def connection_out(connection: Connection) -> ConnectionOut:
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
        history_sync=history_sync_out(connection.history),
        badge=Badge(label=connection.history.badge_label(), tooltip=BADGE_TOOLTIP),
        history_leads_with_new_messages=connection.history_lead_tickets,
    )
