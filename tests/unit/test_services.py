"""Services with in-memory fakes: organizations and their keys, connecting numbers."""

from __future__ import annotations

import pytest

from tests.fakes import InMemoryOrganizations, InMemoryWorld, StaticSecrets
from whatrack.api.models import NewConnection
from whatrack.domain.connections import ConnectionMode, HistorySyncStatus
from whatrack.domain.errors import ConflictError, NotFoundError, UnauthorizedError
from whatrack.domain.onboarding import PhoneNumber
from whatrack.domain.organizations import Organization, hash_api_key
from whatrack.services.organizations import OrganizationService

NUMBERS = [PhoneNumber("123", "5511955550100")]


def test_organization_keys_are_stored_only_as_hashes() -> None:
    repo = InMemoryOrganizations()
    service = OrganizationService(repo, StaticSecrets())
    organization, api_key = service.create("Acme")
    assert api_key not in repo.by_hash and hash_api_key(api_key) in repo.by_hash
    assert service.authenticate(f"Bearer {api_key}") == organization
    for header in (None, "", "Bearer", "Basic abc", "Bearer wrong"):
        with pytest.raises(UnauthorizedError):
            service.authenticate(header)
    with pytest.raises(UnauthorizedError):
        service.require_admin("Bearer not-admin")
    service.require_admin("Bearer admin-key")


class CountingOrganizations(InMemoryOrganizations):
    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def find_by_api_key_hash(self, api_key_hash: str) -> Organization | None:
        self.lookups += 1
        return super().find_by_api_key_hash(api_key_hash)


def test_a_found_key_is_trusted_for_a_minute_and_an_unknown_one_is_never_remembered() -> None:
    # Given an organization, and a warm function's clock
    repo, now = CountingOrganizations(), [0.0]
    service = OrganizationService(repo, StaticSecrets(), known_for=60, monotonic=lambda: now[0])
    organization, api_key = service.create("Acme")
    # When its key is used every few seconds for a minute
    for second in range(0, 60, 3):
        now[0] = float(second)
        assert service.authenticate(f"Bearer {api_key}") == organization
    # Then it was looked up once; after the minute, once more
    assert repo.lookups == 1
    now[0] = 60.0
    assert service.authenticate(f"Bearer {api_key}") == organization and repo.lookups == 2
    # And a wrong key is looked up (and refused) every time
    for _ in range(2):
        with pytest.raises(UnauthorizedError):
            service.authenticate("Bearer wrong")
    assert repo.lookups == 4


@pytest.mark.parametrize(
    ("mode", "sync", "status"),
    [
        ("cloud_api", True, HistorySyncStatus.NOT_SUPPORTED),
        ("coexistence", True, HistorySyncStatus.PENDING_CONSENT),
        ("coexistence", False, HistorySyncStatus.NOT_REQUESTED),
    ],
)
def test_initial_history_status(mode: str, sync: bool, status: HistorySyncStatus) -> None:
    service = InMemoryWorld().connection_service()
    request = NewConnection.model_validate({"phoneNumberId": "123", "wabaId": "456", "mode": mode, "syncHistory": sync})
    assert service.connect("org", request.to_request()).connection.history.status is status


def test_connection_conflict_removes_the_stored_token_and_other_orgs_see_404() -> None:
    world = InMemoryWorld()
    vault, service = world.vault, world.connection_service()
    body = {"phoneNumberId": "123", "wabaId": "456", "mode": ConnectionMode.COEXISTENCE, "accessToken": "t1"}
    first = service.connect("org-a", NewConnection.model_validate(body).to_request(), numbers=NUMBERS).connection
    assert vault.read(str(first.access_token_secret_id)) == "t1"
    with pytest.raises(ConflictError):
        service.connect(
            "org-b", NewConnection.model_validate({**body, "accessToken": "t2"}).to_request(), numbers=NUMBERS
        )
    assert list(vault.secrets.values()) == ["t1"]
    with pytest.raises(NotFoundError):
        service.get("org-b", first.id)
    assert service.get("org-a", first.id) == first
