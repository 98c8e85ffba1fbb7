"""Port contract: The archive and the token vault."""

from __future__ import annotations

import pytest

from tests.integration.contracts.support import (
    T0,
    Ports,
    at,
)
from whatrack.domain.errors import TransientError
from whatrack.domain.ids import new_id


# =========================================================================== archive and vault
def test_the_archive_is_content_addressed_and_idempotent(ports: Ports) -> None:
    # Given a body archived once
    raw = f'{{"object":"whatsapp_business_account","n":"{new_id()}"}}'.encode()
    key = ports.archive.put_raw(raw, received_at=T0)
    # When the same bytes are archived again, and other bytes
    again = ports.archive.put_raw(raw, received_at=at(60))
    other = ports.archive.put_raw(raw + b" ", received_at=at(60))
    # Then the same bytes get the same key, others another, and each reads back
    assert again == key and other != key
    assert (ports.archive.get_raw(key), ports.archive.get_raw(other)) == (raw, raw + b" ")


def test_reading_a_missing_archive_key_is_transient(ports: Ports) -> None:
    # Given a key never written
    # When it is read
    # Then the read fails as retryable
    with pytest.raises(TransientError):
        ports.archive.get_raw(f"webhooks/sha256/00/{new_id()}")


def test_a_stored_token_reads_back(ports: Ports) -> None:
    # Given a connection's token
    connection_id = new_id()
    # When it is stored
    secret_id = ports.vault.store(connection_id, "token-1")
    # Then its secret id reads it back
    assert ports.vault.read(secret_id) == "token-1"


def test_a_deleted_token_can_no_longer_be_read(ports: Ports) -> None:
    # Given a stored token (not read yet: the adapter caches reads for a minute)
    secret_id = ports.vault.store(new_id(), "token-2")
    # When it is deleted (twice: a retry after a timeout)
    ports.vault.delete(secret_id)
    ports.vault.delete(secret_id)
    # Then reading it fails as retryable
    with pytest.raises(TransientError):
        ports.vault.read(secret_id)


def test_storing_a_token_again_replaces_it(ports: Ports) -> None:
    # Given a connection's stored token
    connection_id = new_id()
    first = ports.vault.store(connection_id, "EAAG-first")
    # When its number is connected again with a new token
    second = ports.vault.store(connection_id, "EAAG-second")
    # Then the same secret now holds the new token
    assert ports.vault.read(second) == "EAAG-second"
    assert second == first
