"""Organizations (tenants) and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from whatrack.errors import UnauthorizedError
from whatrack.ids import new_id
from whatrack.timeutil import utcnow

if TYPE_CHECKING:
    from whatrack.ports import AdminCredentials, OrganizationRepository

API_KEY_PREFIX = "wtk_"


class Organization(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    created_at: datetime


def hash_api_key(api_key: str) -> str:
    """API keys are stored only as this hash (SHA-256 of a 256-bit random token)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class OrganizationService:
    def __init__(self, repository: OrganizationRepository, admin: AdminCredentials) -> None:
        self._repository = repository
        self._admin = admin

    def require_admin(self, authorization: str | None) -> None:
        token = bearer_token(authorization)
        expected = self._admin.admin_api_key()
        if token is None or not secrets.compare_digest(token.encode(), expected.encode()):
            raise UnauthorizedError("a valid admin API key is required")

    def create(self, name: str) -> tuple[Organization, str]:
        """Create an organization; the returned API key is shown once and stored as a hash."""
        organization = Organization(id=new_id(), name=name, created_at=utcnow())
        api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
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
