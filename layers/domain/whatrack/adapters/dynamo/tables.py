"""The three tables: their base items, their global secondary indexes, and every key.

``AccountsTable`` holds organizations, API keys, connections, phone-number guards, WABA links and
history chunks; ``InboxTable`` leads, identity guards, conversations, messages, tickets and
counting markers; ``LogTable`` the webhook and audit log. ``docs/data-model.md`` draws them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from whatrack.adapters.dynamo.client import shared_client

Key = tuple[str, str]
TABLES: dict[str, str] = {}
"""Physical table names by role (``accounts``, ``inbox``, ``log``), set by :func:`bind_tables`."""


class _TableBound:
    """Every item model finds its table when it is used, from :data:`TABLES`, and talks through the
    one shared client: a model module imported after :func:`bind_tables` is bound all the same."""

    _table_role: ClassVar[str]

    @classmethod
    def _get_connection(cls) -> TableConnection:
        name = TABLES.get(cls._table_role)
        meta: Any = cls.Meta  # type: ignore[attr-defined]
        if name is not None and meta.table_name != name:
            meta.table_name = name
        if "_connection" not in vars(cls):  # its own: a base class's connection does not know its indexes
            cls._connection = None  # type: ignore[attr-defined]
        connection: TableConnection = super()._get_connection()  # type: ignore[misc]
        connection.connection._client = shared_client()
        return connection


class AccountsTableItem(_TableBound, Model):
    _table_role = "accounts"

    class Meta:
        table_name = "unbound-accounts"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class InboxTableItem(_TableBound, Model):
    _table_role = "inbox"

    class Meta:
        table_name = "unbound-inbox"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class LogTableItem(_TableBound, Model):
    _table_role = "log"

    class Meta:
        table_name = "unbound-log"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class MarkerItem(InboxTableItem):
    """Existence-only item: "this thread / contact / message was counted once" (see :func:`marker_key`).

    A contact marker also makes its lead a member of the connection's lead list: ``gsi2 =
    CONN#<connection>#CONVS`` / ``<lead id>#CONTACT``, next to the conversations (``<lead id>``)."""

    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)


class Gsi1(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    """``gsi1pk`` / ``gsi1sk`` (PynamoDB copies an index onto each model that declares it)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    """``gsi2pk`` / ``gsi2sk``."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    """``gsi3pk`` / ``gsi3sk`` (LogTable only: the reconciler's sparse index of entries not final yet)."""

    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class Activity1(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    """``gsi1pk`` / ``last_message_at``: an organization's leads and tickets, latest message first
    (InboxTable; an item without a message is not in it)."""

    class Meta:
        index_name = "activity1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    last_message_at = UTCDateTimeAttribute(range_key=True)


class Activity2(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    """``gsi2pk`` / ``last_message_at``: a connection's conversations and tickets, latest message first."""

    class Meta:
        index_name = "activity2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    last_message_at = UTCDateTimeAttribute(range_key=True)


def bind_tables(*, accounts: str, inbox: str, log: str) -> None:
    """The physical tables (names come from settings, at runtime); every item model, imported before
    or after, uses them from its next request."""
    TABLES.update(accounts=accounts, inbox=inbox, log=log)


# --------------------------------------------------------------------------- AccountsTable keys
def org_key(organization_id: str) -> Key:
    return f"ORG#{organization_id}", "ORG"


def api_key_key(api_key_hash: str) -> Key:
    return f"APIKEY#{api_key_hash}", "APIKEY"


def connection_key(connection_id: str) -> Key:
    return f"CONN#{connection_id}", "CONN"


def phone_number_guard_key(phone_number_id: str) -> Key:
    return f"PNID#{phone_number_id}", "PNID"


def pace_key(phone_number_id: str) -> Key:
    return f"PNID#{phone_number_id}", "PACE"


def waba_link_key(waba_id: str, connection_id: str) -> Key:
    return f"WABA#{waba_id}", f"CONN#{connection_id}"


def chunk_key(connection_id: str, phase: int, chunk_order: int) -> Key:
    return f"CONN#{connection_id}", f"CHUNK#{phase:03d}#{chunk_order:06d}"


# --------------------------------------------------------------------------- InboxTable keys
def lead_key(lead_id: str) -> Key:
    return f"LEAD#{lead_id}", "LEAD"


def phone_guard_key(organization_id: str, phone: str) -> Key:
    return f"ORG#{organization_id}#PHONE#{phone}", "GUARD"


def user_guard_key(organization_id: str, user_id: str) -> Key:
    return f"ORG#{organization_id}#USER#{user_id}", "GUARD"


def conversation_key(conversation_id: str) -> Key:
    return f"CONV#{conversation_id}", "CONV"


def message_key(connection_id: str, wamid: str) -> Key:
    return f"MSG#{connection_id}#{wamid}", "MSG"


def open_ticket_guard_key(conversation_id: str) -> Key:
    return f"OPEN#{conversation_id}", "GUARD"


def ticket_key(ticket_id: str) -> Key:
    return f"TICKET#{ticket_id}", "TICKET"


def connection_members(connection_id: str) -> str:
    """The ``gsi2`` partition of a connection's leads: its conversations and its synced contacts."""
    return f"CONN#{connection_id}#CONVS"


def marker_key(*parts: str) -> Key:
    """Existence-only items: "this thread / contact / ticket-opening message was counted once"."""
    return "MARK#" + "#".join(parts), "MARK"


def history_thread_key(connection_id: str, conversation_id: str) -> Key:
    """The marker of a conversation's history thread on a connection, counted once."""
    return marker_key("HTHREAD", connection_id, conversation_id)


# --------------------------------------------------------------------------- LogTable keys
def log_key(log_id: str) -> Key:
    return f"LOG#{log_id}", "LOG"


def audit_key(audit_id: str) -> Key:
    return f"AUDIT#{audit_id}", "AUDIT"


def kept_partition(phone_number_id: str) -> str:
    """The base-table partition of the changes kept for a number with no connection (strongly readable)."""
    return f"UNMATCHED#{phone_number_id}"


def kept_key(phone_number_id: str, log_id: str) -> Key:
    return kept_partition(phone_number_id), f"KEPT#{log_id}"
