"""Organizations (tenants): creation with a one-time API key, and authentication of callers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from whatrack.domain.clock import utcnow
from whatrack.domain.errors import UnauthorizedError
from whatrack.domain.ids import new_id
from whatrack.domain.organizations import Organization, bearer_token, hash_api_key, new_api_key, same_secret

if TYPE_CHECKING:
    from whatrack.ports import AdminCredentials, OrganizationRepository


class OrganizationService:
    def __init__(self, repository: OrganizationRepository, admin: AdminCredentials) -> None:
        self._repository = repository
        self._admin = admin

    def require_admin(self, authorization: str | None) -> None:
        if not same_secret(bearer_token(authorization), self._admin.admin_api_key()):
            raise UnauthorizedError("a valid admin API key is required")

    def create(self, name: str) -> tuple[Organization, str]:
        """Create an organization; the returned API key is shown once and stored as a hash."""
        organization = Organization(id=new_id(), name=name, created_at=utcnow())
        api_key = new_api_key()
        self._repository.create(organization, hash_api_key(api_key))
        return organization, api_key

    def authenticate(self, authorization: str | None) -> Organization:
        token = bearer_token(authorization)
        if token is None:
            raise UnauthorizedError("missing bearer API key")
        organization = self._repository.find_by_api_key_hash(hash_api_key(token))
        if organization is None:
            raise UnauthorizedError("unknown API key")
        return organization
