"""Organizations (tenants): creation with a one-time API key, and authentication of callers."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from whatrack.domain.clock import utcnow
from whatrack.domain.errors import UnauthorizedError
from whatrack.domain.ids import new_id
from whatrack.domain.organizations import Organization, bearer_token, hash_api_key, new_api_key, same_secret

if TYPE_CHECKING:
    from collections.abc import Callable

    from whatrack.ports import AdminCredentials, OrganizationRepository


KNOWN_KEY_SECONDS = 60.0
"""How long a warm function trusts an API key it has found (an open screen asks every few seconds:
without this, every ask costs the key's two reads). The contract has no way to revoke a key (§3, §5)."""


class OrganizationService:
    def __init__(
        self,
        repository: OrganizationRepository,
        admin: AdminCredentials,
        *,
        known_for: float = KNOWN_KEY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._admin = admin
        self._known_for = known_for
        self._monotonic = monotonic
        self._known: dict[str, tuple[Organization, float]] = {}

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
        key_hash = hash_api_key(token)
        now = self._monotonic()
        known = self._known.get(key_hash)
        if known is not None and now < known[1]:
            return known[0]
        organization = self._repository.find_by_api_key_hash(key_hash)
        if organization is None:
            raise UnauthorizedError("unknown API key")  # never remembered: a key created since is found
        if len(self._known) >= 1000:  # a few organizations' screens per function; never unbounded
            self._known.clear()
        self._known[key_hash] = (organization, now + self._known_for)
        return organization
