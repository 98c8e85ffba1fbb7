"""Organizations and their API-key index (AccountsTable)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.transactions import TransactWrite

from whatrack.adapters.dynamo.tables import AccountsTableItem, api_key_key, org_key
from whatrack.adapters.dynamo.writes import get_or_none, transact
from whatrack.domain.errors import TransientError
from whatrack.domain.organizations import Organization


class OrganizationItem(AccountsTableItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    api_key_hash = UnicodeAttribute()


class ApiKeyItem(AccountsTableItem):
    organization_id = UnicodeAttribute()


class DynamoOrganizationRepository:
    def create(self, organization: Organization, api_key_hash: str) -> None:
        """The organization and its key's index entry, in one transaction (both new)."""
        org = OrganizationItem(
            *org_key(organization.id),
            id=organization.id,
            name=organization.name,
            created_at=organization.created_at,
            api_key_hash=api_key_hash,
        )
        key = ApiKeyItem(*api_key_key(api_key_hash), organization_id=organization.id)

        def write(tx: TransactWrite) -> None:
            tx.save(org, condition=OrganizationItem.pk.does_not_exist())
            tx.save(key, condition=ApiKeyItem.pk.does_not_exist())

        if not transact("organization create", write):
            raise TransientError("organization create collided with an existing id or key; retry")

    def find_by_api_key_hash(self, api_key_hash: str) -> Organization | None:
        key = get_or_none(ApiKeyItem, api_key_key(api_key_hash))
        if key is None:
            return None
        org = get_or_none(OrganizationItem, org_key(key.organization_id))
        if org is None:
            return None
        return Organization(id=org.id, name=org.name, created_at=org.created_at)
