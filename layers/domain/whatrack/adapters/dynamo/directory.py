"""Ingest's directory (AccountsTable): which connection(s) a change belongs to, read from the
phone-number guard and the WABA links that :mod:`.connections` writes with each connection. Kept
apart from the connections themselves so ingest loads no connection model."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from whatrack.adapters.dynamo.tables import AccountsTableItem, phone_number_guard_key
from whatrack.adapters.dynamo.writes import get_or_none, storage
from whatrack.domain.routing import ConnectionTarget, digits_only


class PhoneNumberGuardItem(AccountsTableItem):
    """One per connected ``phone_number_id``: enforces uniqueness and serves ingest's lookup."""

    connection_id = UnicodeAttribute()
    organization_id = UnicodeAttribute()


class WabaLinkItem(AccountsTableItem):
    """``WABA#<waba id>`` / ``CONN#<id>``: matches ``account_update`` changes (keyed by WABA)."""

    connection_id = UnicodeAttribute()
    organization_id = UnicodeAttribute()
    display_phone_number = UnicodeAttribute(null=True)
    verified = BooleanAttribute(default=False)


class DynamoConnectionDirectory:
    """Ingest's read side: which connection(s) does a change belong to."""

    def targets_for_phone_number_id(self, phone_number_id: str, *, consistent: bool = False) -> list[ConnectionTarget]:
        guard = get_or_none(PhoneNumberGuardItem, phone_number_guard_key(phone_number_id), consistent_read=consistent)
        if guard is None:
            return []
        return [ConnectionTarget(guard.connection_id, guard.organization_id)]

    def targets_for_waba(self, waba_id: str, display_phone_number: str | None) -> list[ConnectionTarget]:
        with storage("connection lookup"):
            links = list(WabaLinkItem.query(f"WABA#{waba_id}", WabaLinkItem.sk.startswith("CONN#")))
        # a WABA whose ownership a token proved belongs to those connections only (decision D-21)
        links = [link for link in links if link.verified] or links
        wanted = digits_only(display_phone_number)
        if wanted is not None:
            links = [link for link in links if digits_only(link.display_phone_number) == wanted] or [
                link for link in links if link.display_phone_number is None
            ]
        return [ConnectionTarget(link.connection_id, link.organization_id) for link in links]
