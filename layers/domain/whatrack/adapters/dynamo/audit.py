"""Audit entries of a connection (LogTable): sync start, completion, decline, failure, errors."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute

from whatrack.adapters.dynamo.tables import LogTableItem, audit_key
from whatrack.adapters.dynamo.writes import put_if_absent
from whatrack.domain.clock import iso
from whatrack.domain.ids import stable_id
from whatrack.domain.log import LogKind


class AuditLogItem(LogTableItem):
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    kind = UnicodeAttribute()
    id = UnicodeAttribute()
    at = UnicodeAttribute()
    event = UnicodeAttribute()
    status = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    connection_id = UnicodeAttribute()


class DynamoAuditLog:
    def record(
        self,
        connection_id: str,
        event: str,
        at: datetime,
        *,
        key: str,
        status: str | None = None,
        error: str | None = None,
    ) -> None:
        """One audit entry per (connection, key): replays do not repeat it."""
        audit_id = stable_id("audit", connection_id, key)
        item = AuditLogItem(
            *audit_key(audit_id),
            gsi1pk=f"CONN#{connection_id}",
            gsi1sk=f"{iso(at)}#{audit_id}",
            kind=LogKind.AUDIT.value,
            id=audit_id,
            at=iso(at) or "",
            event=event,
            status=status,
            error=error,
            connection_id=connection_id,
        )
        put_if_absent(item, "audit write")
