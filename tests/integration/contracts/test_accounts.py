"""Port contract: Organizations, connections and ingest's directory."""

from __future__ import annotations

import pytest

from tests.integration.contracts.support import (
    T0,
    Ports,
    at,
    connect,
    stored,
    unique_number,
)
from whatrack.domain.connections import ConnectionStatus
from whatrack.domain.errors import ConflictError, TransientError
from whatrack.domain.ids import new_id
from whatrack.domain.organizations import Organization
from whatrack.domain.routing import ConnectionTarget


# =========================================================================== organizations
def test_organization_is_found_by_the_hash_of_its_key(ports: Ports) -> None:
    # Given an organization stored with the hash of its key
    organization = Organization(id=new_id(), name="Acme", created_at=T0)
    key_hash = new_id()
    ports.organizations.create(organization, key_hash)
    # When it is looked up by that hash, and by another one
    # Then the first finds it and the second finds nothing
    assert ports.organizations.find_by_api_key_hash(key_hash) == organization
    assert ports.organizations.find_by_api_key_hash(new_id()) is None


def test_organization_with_a_key_hash_already_used_is_refused(ports: Ports) -> None:
    # Given an organization holding a key hash
    first = Organization(id=new_id(), name="First", created_at=T0)
    key_hash = new_id()
    ports.organizations.create(first, key_hash)
    # When another organization is created with the same hash
    # Then the write is refused as retryable and the hash still finds the first one
    with pytest.raises(TransientError):
        ports.organizations.create(Organization(id=new_id(), name="Second", created_at=T0), key_hash)
    assert ports.organizations.find_by_api_key_hash(key_hash) == first


# =========================================================================== connections
def test_connection_reads_back_as_created_with_empty_counters(ports: Ports) -> None:
    # Given a new connection
    connection = connect(ports)
    # When it is read back
    found = ports.connections.get(connection.id)
    # Then it is the same, with its history status and every counter at zero
    assert found == connection
    assert found.history.messages_imported == 0 and found.media_received == 0


def test_connecting_a_connected_phone_number_id_is_a_conflict(ports: Ports) -> None:
    # Given a connected phone number id
    first = connect(ports)
    # When another organization connects the same number
    with pytest.raises(ConflictError) as refused:
        connect(ports, phone_number_id=first.phone_number_id)
    # Then it is refused with its code and the number still routes to the first connection
    assert refused.value.code == "phone_number_already_connected"
    assert ports.directory.targets_for_phone_number_id(first.phone_number_id) == [
        ConnectionTarget(first.id, first.organization_id)
    ]


def test_connections_of_an_organization_are_listed_newest_first(ports: Ports) -> None:
    # Given three connections of one organization created at different times, and another's
    organization_id = new_id()
    older = connect(ports, organization_id, created_at=at(0))
    newest = connect(ports, organization_id, created_at=at(20))
    middle = connect(ports, organization_id, created_at=at(10))
    connect(ports, created_at=at(30))
    # When the organization's connections are listed
    listed = ports.connections.list_for_organization(organization_id)
    # Then they are its own, newest first
    assert [c.id for c in listed] == [newest.id, middle.id, older.id]


def test_connection_status_applies_events_by_their_time(ports: Ports) -> None:
    # Given an active connection
    connection = connect(ports)
    # When a disconnection of t+20 lands, then a reconnection of t+10 arrives late, then one of t+30
    removed = ports.connections.set_status(connection.id, ConnectionStatus.DISCONNECTED, at(20))
    late = ports.connections.set_status(connection.id, ConnectionStatus.ACTIVE, at(10))
    state_after_late = stored(ports, connection.id).connection_status
    reconnected = ports.connections.set_status(connection.id, ConnectionStatus.ACTIVE, at(30))
    # Then the late, older event changed nothing and the newest one won
    assert (removed, late, reconnected) == (True, False, True)
    assert state_after_late is ConnectionStatus.DISCONNECTED
    found = stored(ports, connection.id)
    assert (found.connection_status, found.status_changed_at) == (ConnectionStatus.ACTIVE, at(30))


def test_connection_status_of_an_unknown_connection_is_not_applied(ports: Ports) -> None:
    # Given no connection with this id, Then no status is applied to it
    assert ports.connections.set_status(new_id(), ConnectionStatus.DISCONNECTED, at(0)) is False


# =========================================================================== directory
def test_directory_routes_a_connected_phone_number_id(ports: Ports) -> None:
    # Given a connection
    connection = connect(ports)
    # When its number and an unknown one are looked up
    # Then the number finds the connection and the unknown one nothing
    assert ports.directory.targets_for_phone_number_id(connection.phone_number_id) == [
        ConnectionTarget(connection.id, connection.organization_id)
    ]
    assert ports.directory.targets_for_phone_number_id(unique_number("3099")) == []


def test_directory_matches_a_waba_change_by_its_display_number_in_any_notation(ports: Ports) -> None:
    # Given two connections of one WABA with different display numbers
    waba = unique_number("4011")
    mine = connect(ports, waba_id=waba, display="5491155550100")
    connect(ports, waba_id=waba, display="5491100000000")
    # When a change of that WABA names one number, formatted differently
    targets = ports.directory.targets_for_waba(waba, "+54 9 11 5555-0100")
    # Then only that connection is matched
    assert targets == [ConnectionTarget(mine.id, mine.organization_id)]


def test_directory_without_a_display_number_matches_every_connection_of_the_waba(ports: Ports) -> None:
    # Given two connections of one WABA
    waba = unique_number("4011")
    first = connect(ports, waba_id=waba, display="5491155550100")
    second = connect(ports, waba_id=waba, display="5491100000000")
    # When a change of that WABA names no number
    targets = ports.directory.targets_for_waba(waba, None)
    # Then both connections are matched
    assert sorted(t.connection_id for t in targets) == sorted([first.id, second.id])


def test_directory_falls_back_to_connections_without_a_display_number(ports: Ports) -> None:
    # Given a WABA with one connection showing a number and one showing none
    waba = unique_number("4011")
    connect(ports, waba_id=waba, display="5491155550100")
    numberless = connect(ports, waba_id=waba, display=None)
    # When a change names a number no connection shows
    targets = ports.directory.targets_for_waba(waba, "5491199999999")
    # Then the connection without a number is the one matched
    assert targets == [ConnectionTarget(numberless.id, numberless.organization_id)]
