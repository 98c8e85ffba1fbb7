"""Port contract: each message's media state (issue 21): claimed once, settled once, counted with it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.integration.contracts.support import T0, Ports, at, inbox, message, placeholder, put, stored
from whatrack.domain.clock import iso
from whatrack.domain.history import ThreadImport
from whatrack.domain.media import MediaHeldError, MediaState
from whatrack.domain.messages import MEDIA_PLACEHOLDER_TYPE, REVOKED_TYPE, MessageSource, NewMessage


def _photo(wamid: str, state: MediaState = MediaState.PENDING, seconds: float = 0) -> NewMessage:
    media = {"id": f"m-{wamid}", "mimeType": "image/jpeg", "caption": None, "state": state.value}
    return message(wamid, seconds, kind="image", body=None, media=media, source=MessageSource.LIVE)


def _waiting(wamid: str, seconds: float) -> NewMessage:
    """A history placeholder whose follow-up may still come."""
    return message(wamid, seconds, kind=MEDIA_PLACEHOLDER_TYPE, body=None, media={"id": None, "state": "placeholder"})


def _counts(ports: Ports, connection_id: str) -> dict[str, int]:
    return {k: v for k, v in stored(ports, connection_id).media_files.items() if v}


def test_a_media_message_is_counted_in_its_state_with_its_insert(ports: Ports) -> None:
    # Given a photo and a file Meta refused, stored on a connection
    box = inbox(ports)
    assert put(ports, box, _photo("wamid.M1"))
    assert put(ports, box, _photo("wamid.M2", MediaState.TOO_LARGE))
    # When the photo is delivered again
    assert not put(ports, box, _photo("wamid.M1"))
    # Then each is counted once, in its state, and only the pending one is listed
    assert _counts(ports, box.connection.id) == {"pending": 1, "too_large": 1}
    assert [m.wamid for m in ports.media_state.listed(box.connection.id, MediaState.PENDING)] == ["wamid.M1"]


def test_a_pending_file_is_held_by_one_download_until_its_lease_ends(ports: Ports) -> None:
    box = inbox(ports)
    put(ports, box, _photo("wamid.C1"))
    claimed = ports.media_state.claim(box.connection.id, "wamid.C1", T0, T0 + timedelta(minutes=5))
    assert claimed is not None and claimed.media["id"] == "m-wamid.C1"
    assert claimed.organization_id == box.organization_id
    # another download meanwhile: told the file is held; after the lease: taken
    with pytest.raises(MediaHeldError):
        ports.media_state.claim(box.connection.id, "wamid.C1", at(60), at(360))
    assert ports.media_state.claim(box.connection.id, "wamid.C1", at(301), at(600)) is not None
    # a file that is not pending, or no message at all: nothing to claim
    assert ports.media_state.claim(box.connection.id, "wamid.none", T0, at(300)) is None


def test_a_file_settles_once_and_moves_its_counts(ports: Ports) -> None:
    box = inbox(ports)
    put(ports, box, _photo("wamid.S1"))
    kept = {"id": "m-wamid.S1", "mimeType": "image/jpeg", "sha256": "ab" * 32, "size": 10, "key": "media/c/k"}
    assert ports.media_state.settle(box.connection.id, "wamid.S1", MediaState.STORED, kept, at(5))
    assert not ports.media_state.settle(box.connection.id, "wamid.S1", MediaState.EXPIRED, kept, at(6))
    assert _counts(ports, box.connection.id) == {"stored": 1}
    assert ports.media_state.listed(box.connection.id, MediaState.PENDING) == []
    [shown] = [m for m in ports.reader.all_messages(box.conversation_id) if m.id == "wamid.S1"]
    assert shown.media is not None
    assert (shown.media.state, shown.media.sha256, shown.media.size) == ("stored", "ab" * 32, 10)


def test_a_noted_attempt_keeps_the_error_and_frees_the_file(ports: Ports) -> None:
    box = inbox(ports)
    put(ports, box, _photo("wamid.N1"))
    assert ports.media_state.claim(box.connection.id, "wamid.N1", T0, at(300)) is not None
    noted = {"id": "m-wamid.N1", "mimeType": "image/jpeg", "error": {"code": "503", "message": "busy"}}
    assert ports.media_state.note_attempt(box.connection.id, "wamid.N1", noted)
    claimed = ports.media_state.claim(box.connection.id, "wamid.N1", at(1), at(301))
    assert claimed is not None and claimed.media["error"] == {"code": "503", "message": "busy"}


def test_a_failed_file_is_requeued_once_and_listed_while_failed(ports: Ports) -> None:
    box = inbox(ports)
    put(ports, box, _photo("wamid.R1"))
    failed = {"id": "m-wamid.R1", "mimeType": "image/jpeg", "error": {"code": "5xx", "message": "kept failing"}}
    ports.media_state.settle(box.connection.id, "wamid.R1", MediaState.FAILED, failed, at(10))
    [listed] = ports.media_state.listed(box.connection.id, MediaState.FAILED)
    assert (listed.wamid, listed.since, listed.organization_id) == ("wamid.R1", at(10), box.organization_id)
    assert _counts(ports, box.connection.id) == {"failed": 1}
    # When a retry is asked for twice
    again = {**listed.media, "error": None}
    first = ports.media_state.requeue(box.connection.id, "wamid.R1", MediaState.FAILED, again, at(20))
    second = ports.media_state.requeue(box.connection.id, "wamid.R1", MediaState.FAILED, again, at(21))
    # Then it is pending once, listed as such since the retry
    assert (first, second) == (True, False)
    assert _counts(ports, box.connection.id) == {"pending": 1}
    [pending] = ports.media_state.listed(box.connection.id, MediaState.PENDING)
    assert pending.since == at(20)
    # a sweep that queues it again gives it a new place: found only by a sweep after that
    assert ports.media_state.requeue(box.connection.id, "wamid.R1", MediaState.PENDING, again, at(40))
    assert ports.media_state.listed(box.connection.id, MediaState.PENDING, before=at(30)) == []
    assert len(ports.media_state.listed(box.connection.id, MediaState.PENDING, before=at(50))) == 1


def test_a_file_is_listed_from_when_meta_announced_it_not_from_when_it_was_sent(ports: Ports) -> None:
    # a history follow-up sent two weeks ago arrives now: a sweep must not take it for a lost job
    box = inbox(ports)
    old = _photo("wamid.A1", seconds=-14 * 86_400)
    put(ports, box, replace(old, media={**(old.media or {}), "receivedAt": iso(at(100))}))
    assert ports.media_state.listed(box.connection.id, MediaState.PENDING, before=at(50)) == []
    [listed] = ports.media_state.listed(box.connection.id, MediaState.PENDING, before=at(150))
    assert listed.since == at(100)


def test_a_placeholder_is_given_up_once_and_counted_unavailable(ports: Ports) -> None:
    box = inbox(ports)
    placeholder = message(
        "wamid.G1", kind=MEDIA_PLACEHOLDER_TYPE, body=None, media={"id": None, "state": "placeholder"}
    )
    put(ports, box, placeholder)
    assert _counts(ports, box.connection.id) == {"placeholder": 1}
    [waiting] = ports.media_state.listed(box.connection.id, MediaState.PLACEHOLDER)
    assert waiting.wamid == "wamid.G1"
    # When two sweeps give it up
    first = ports.media_state.give_up_placeholder(box.connection.id, "wamid.G1", waiting.media, at(10))
    second = ports.media_state.give_up_placeholder(box.connection.id, "wamid.G1", waiting.media, at(11))
    # Then it is unavailable once, no longer listed, and a pending file is never given up
    assert (first, second) == (True, False)
    assert _counts(ports, box.connection.id) == {"unavailable": 1}
    assert ports.media_state.listed(box.connection.id, MediaState.PLACEHOLDER) == []
    put(ports, box, _photo("wamid.G2"))
    assert not ports.media_state.give_up_placeholder(box.connection.id, "wamid.G2", {"id": "m-wamid.G2"}, at(12))


def test_a_file_deleted_before_its_history_came_is_never_counted(ports: Ports) -> None:
    # Given tombstones of a photo and a placeholder the customer deleted (live revokes came first)
    box = inbox(ports)
    for wamid in ("wamid.TP", "wamid.TH"):
        put(ports, box, message(wamid, 5, kind=REVOKED_TYPE, body=None, deleted=True, source=MessageSource.LIVE))
    # When the history brings them
    photo = _photo("wamid.TP", seconds=1)
    waiting = message("wamid.TH", 2, kind=MEDIA_PLACEHOLDER_TYPE, body=None, media={"id": None, "state": "placeholder"})
    thread = ThreadImport(
        box.conversation_id, box.lead.lead.id, [replace(photo, source=MessageSource.HISTORY), waiting]
    )
    ports.messages.import_history(box.organization_id, box.connection.id, [thread])
    # Then no file is counted (none will be fetched nor swept: the tombstones keep what Meta said of them)
    assert _counts(ports, box.connection.id) == {}
    assert ports.media_state.listed(box.connection.id, MediaState.PENDING) == []


def test_a_placeholder_stored_before_media_states_is_filled_without_uncounting_another(ports: Ports) -> None:
    box = inbox(ports)
    put(ports, box, placeholder("wamid.LEG", 1), history=True)  # no media state: stored before v1.2
    waiting = message(
        "wamid.NEW", 2, kind=MEDIA_PLACEHOLDER_TYPE, body=None, media={"id": None, "state": "placeholder"}
    )
    put(ports, box, waiting, history=True)
    assert _counts(ports, box.connection.id) == {"placeholder": 1}
    pending = {"id": "m-9", "mimeType": "image/jpeg", "state": "pending"}
    assert ports.messages.fill_media(box.connection.id, "wamid.LEG", "image", pending, None)
    # the other placeholder is still counted: the watchdog will still give it up in time
    assert _counts(ports, box.connection.id) == {"pending": 1, "placeholder": 1}
