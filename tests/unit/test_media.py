"""Issue 21: every media file Meta announces is fetched, verified and kept, or its ending is named.

The in-memory world stores the messages; the media function's service downloads from the Meta
simulator in-process (``HttpGraphApi`` and the download on ``simulator.open``: no socket).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.meta.answers import meta_error, server_error, url_gone
from tests.builders import payloads as b
from tests.fakes import Clock, InMemoryWorld
from whatrack.domain.connections import Connection
from whatrack.domain.errors import TransientError
from whatrack.domain.media import MediaState, media_url_valid
from whatrack.domain.messages import Message
from whatrack.services.media import AllowedHosts
from whatrack.services.media_retry import MediaRetry
from whatrack.webhooks.payloads import MessageItem

T0 = 1_764_158_400  # 2025-11-26 12:00 UTC, the world's clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock: Clock) -> InMemoryWorld:
    return InMemoryWorld(clock=clock)


def connected(world: InMemoryWorld) -> Connection:
    token = world.graph.business(b.WABA, b.PNID)
    return world.connect(access_token=token)


def image(media_id: str, sha256: str | None = None, **extra: Any) -> dict[str, Any]:
    content: dict[str, Any] = {"id": media_id, "mime_type": "image/jpeg", **extra}
    if sha256 is not None:
        content["sha256"] = sha256
    return content


def message(world: InMemoryWorld, connection: Connection, wamid: str) -> Message:
    del connection  # one connection per test: wamids are unique
    return world.all_messages()[wamid]


def b64(digest_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(digest_hex)).decode()


# ---------------------------------------------------------------- stored
def test_a_live_photo_is_downloaded_once_checked_and_kept(world: InMemoryWorld) -> None:
    connection = connected(world)
    photo = b"\xff\xd8\xff" + b"jpeg bytes " * 60_000  # 660 kB
    file = world.graph.add_media(photo, mime_type="image/jpeg", phone_number_id=b.PNID)
    delivery = b.live_raw("wamid.P1", "5511999990001", T0, "image", image(file.id, b64(file.sha256_hex)))
    # When it is delivered twice, then its jobs run
    world.deliver(delivery, delivery)
    assert message(world, connection, "wamid.P1").media.state == "pending"  # type: ignore[union-attr]
    # a job per delivery (one that died before its job went out is redelivered), one download
    assert world.run_media_jobs() == [MediaState.STORED, None]
    assert world.media_files.puts == 1
    # Then the file is kept whole, under a key that names no phone number, and the message says so
    media = message(world, connection, "wamid.P1").media
    assert media is not None and media.state == "stored"
    assert (media.sha256, media.size) == (hashlib.sha256(photo).hexdigest(), len(photo))
    assert media.key is not None and media.key.startswith(f"media/{connection.id}/") and "5511" not in media.key
    stored = world.media_files.objects[media.key]
    assert (stored.body, stored.content_type) == (photo, "image/jpeg")
    assert world.media_files.largest_block < len(photo)  # streamed in blocks, never read whole
    counts = world.connections.get(connection.id).media_files  # type: ignore[union-attr]
    assert {state: n for state, n in counts.items() if n} == {"stored": 1}


def test_a_job_delivered_twice_downloads_once(world: InMemoryWorld) -> None:
    connected(world)
    file = world.graph.add_media(b"x" * 1000, phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.D1", "5511999990002", T0, "image", image(file.id)))
    [job] = world.media_jobs.take()
    fetcher = world.media_fetcher()
    assert [fetcher.fetch(job), fetcher.fetch(job)] == [MediaState.STORED, None]
    assert world.media_files.puts == 1


def test_a_file_a_download_holds_is_not_taken_by_another(world: InMemoryWorld, clock: Clock) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"y" * 10, phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.L1", "5511999990003", T0, "image", image(file.id)))
    now = clock()
    assert world.media_state.claim(connection.id, "wamid.L1", now, now + timedelta(minutes=5)) is not None
    # a second job while the first holds it (which may have died): retried later, not dropped
    [job] = world.media_jobs.take()
    with pytest.raises(TransientError, match="being downloaded"):
        world.media_fetcher().fetch(job)
    clock.advance(minutes=6)
    assert world.media_fetcher().fetch(job) is MediaState.STORED


def test_an_app_echo_document_that_says_it_is_html_is_kept_as_an_attachment(world: InMemoryWorld) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"<script>alert(1)</script>", mime_type="text/html", phone_number_id=b.PNID)
    echo = b.echo("wamid.E1", "5511999990004", T0)
    item = echo["entry"][0]["changes"][0]["value"]["message_echoes"][0]
    item |= {"type": "document", "document": {"id": file.id, "mime_type": "text/html", "filename": "proposta.html"}}
    del item["text"]
    world.deliver(echo)
    assert world.run_media_jobs() == [MediaState.STORED]
    media = message(world, connection, "wamid.E1").media
    assert media is not None and (media.filename, media.mime_type) == ("proposta.html", "text/html")
    stored = world.media_files.objects[media.key or ""]
    assert (stored.content_type, stored.filename) == ("application/octet-stream", "proposta.html")


# ---------------------------------------------------------------- endings
def test_an_id_meta_forgot_ends_expired(world: InMemoryWorld) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"z", phone_number_id=b.PNID)
    world.graph.expire_media(file.id)
    world.deliver(b.live_raw("wamid.X1", "5511999990005", T0, "image", image(file.id)))
    assert world.run_media_jobs() == [MediaState.EXPIRED]
    media = message(world, connection, "wamid.X1").media
    assert media is not None and media.error is not None and media.error["code"] == "expired"


def test_a_job_older_than_meta_keeps_files_ends_expired_without_asking(world: InMemoryWorld, clock: Clock) -> None:
    connected(world)
    file = world.graph.add_media(b"z", phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.X2", "5511999990006", T0, "image", image(file.id)))
    clock.advance(days=7, seconds=1)
    calls = len(world.graph.calls)
    assert world.run_media_jobs() == [MediaState.EXPIRED]
    assert len(world.graph.calls) == calls  # Graph was not asked


def test_a_file_over_meta_limit_is_too_large_and_never_queued(world: InMemoryWorld) -> None:
    connection = connected(world)
    too_big = b.live("wamid.T1", "5511999990007", T0)
    item = too_big["entry"][0]["changes"][0]["value"]["messages"][0]
    item |= {"type": "unsupported", "errors": [{"code": 131052, "title": "Media file size too big"}]}
    del item["text"]
    world.deliver(too_big)
    assert world.media_jobs.jobs == []
    media = message(world, connection, "wamid.T1").media
    assert media is not None and media.state == "too_large" and (media.error or {}).get("code") == "131052"
    assert world.connections.get(connection.id).media_files["too_large"] == 1  # type: ignore[union-attr]


def test_a_file_over_our_limit_is_too_large(world: InMemoryWorld) -> None:
    connected(world)
    file = world.graph.add_media(size=5000, mime_type="application/pdf", phone_number_id=b.PNID)
    world.deliver(
        b.live_raw("wamid.T2", "5511999990008", T0, "document", {"id": file.id, "mime_type": "application/pdf"})
    )
    assert world.run_media_jobs(world.media_fetcher(max_bytes=4096)) == [MediaState.TOO_LARGE]
    assert world.media_files.puts == 0


def test_a_url_on_another_host_is_never_fetched(world: InMemoryWorld) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"q", phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.H1", "5511999990009", T0, "image", image(file.id)))
    fetcher = world.media_fetcher(hosts="lookaside.fbsbx.com")
    assert world.run_media_jobs(fetcher) == [MediaState.FAILED]
    assert not world.graph.calls_to("media_download")  # the token went nowhere
    media = message(world, connection, "wamid.H1").media
    assert media is not None and (media.error or {}).get("code") == "untrusted_media_host"


def test_a_refused_token_fails_the_file_and_says_so(world: InMemoryWorld) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"q", phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.K1", "5511999990010", T0, "image", image(file.id)))
    world.graph.fail_next("media", meta_error("Error validating access token", 190, 401))
    assert world.run_media_jobs() == [MediaState.FAILED]
    media = message(world, connection, "wamid.K1").media
    assert media is not None and (media.error or {}).get("code") == "token"


# ---------------------------------------------------------------- retried
def test_a_url_that_answers_404_gets_a_new_one(world: InMemoryWorld) -> None:
    connected(world)
    file = world.graph.add_media(b"abc" * 100, phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.U1", "5511999990011", T0, "image", image(file.id)))
    world.graph.fail_next("media_download", url_gone())
    assert world.run_media_jobs() == [MediaState.STORED]


def test_a_failing_download_is_noted_retried_dead_lettered_failed_then_retried_and_kept(world: InMemoryWorld) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"abc" * 100, phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.F1", "5511999990012", T0, "image", image(file.id)))
    [job] = world.media_jobs.take()
    fetcher = world.media_fetcher()
    world.graph.fail_next("media", *[server_error(503)] * 3)  # the client's own three tries
    with pytest.raises(TransientError):
        fetcher.fetch(job)  # the queue would retry it; it stays pending, with its last error
    media = message(world, connection, "wamid.F1").media
    assert media is not None and media.state == "pending" and media.error is not None
    # the queue gave up: its dead letter settles it failed with that error
    assert fetcher.give_up(job)
    failed = message(world, connection, "wamid.F1").media
    assert failed is not None and failed.state == "failed" and failed.error == media.error
    # a retry asked for: pending again, a new job, then kept
    [listed] = world.media_state.listed(connection.id, MediaState.FAILED)
    assert world.media_state.requeue(connection.id, "wamid.F1", MediaState.FAILED, listed.media, world.clock())
    assert not world.media_state.requeue(connection.id, "wamid.F1", MediaState.FAILED, listed.media, world.clock())
    assert fetcher.fetch(job) is MediaState.STORED
    counts = world.connections.get(connection.id).media_files  # type: ignore[union-attr]
    assert (counts["failed"], counts["pending"], counts["stored"]) == (0, 0, 1)


def test_bytes_that_do_not_match_meta_sha256_are_not_kept(world: InMemoryWorld) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"the real bytes", phone_number_id=b.PNID)
    wrong = b64(hashlib.sha256(b"other bytes").hexdigest())
    world.deliver(b.live_raw("wamid.S1", "5511999990013", T0, "image", image(file.id, wrong)))
    [job] = world.media_jobs.take()
    with pytest.raises(TransientError, match="sha256"):
        world.media_fetcher().fetch(job)
    assert world.media_files.objects == {}
    assert message(world, connection, "wamid.S1").media.state == "pending"  # type: ignore[union-attr]


# ---------------------------------------------------------------- history
def test_history_placeholders_wait_or_are_given_up_and_a_follow_up_is_kept(world: InMemoryWorld, clock: Clock) -> None:
    connection = connected(world)
    created = int(connection.created_at.timestamp())
    recent, old = created - 3 * 86_400, created - 30 * 86_400
    world.deliver(
        b.chunk(
            0,
            1,
            100,
            b.thread("5511999990014", b.placeholder("wamid.H-new", "5511999990014", recent)),
            b.thread("5511999990015", b.placeholder("wamid.H-old", "5511999990015", old)),
        )
    )
    states = {m.id: m.media.state for m in world.all_messages().values() if m.media}
    assert states == {"wamid.H-new": "placeholder", "wamid.H-old": "unavailable"}
    assert world.media_jobs.jobs == []
    # Meta's follow-up of the recent one: filled, queued, kept
    file = world.graph.add_media(b"voice" * 200, mime_type="audio/ogg; codecs=opus", phone_number_id=b.PNID)
    followup = b.media_followup("wamid.H-new", "5511999990014", recent)
    item = followup["entry"][0]["changes"][0]["value"]["messages"][0]
    item["image"]["id"] = file.id
    world.deliver(followup)
    assert world.run_media_jobs() == [MediaState.STORED]
    counts = world.connections.get(connection.id).media_files  # type: ignore[union-attr]
    assert (counts["stored"], counts["unavailable"], counts["pending"], counts["placeholder"]) == (1, 1, 0, 0)


# ---------------------------------------------------------------- the watchdog's sweeps
def test_placeholders_with_no_follow_up_7_days_after_the_sync_completed_are_given_up(
    world: InMemoryWorld, clock: Clock
) -> None:
    connection = connected(world)
    sent = int(connection.created_at.timestamp()) - 86_400
    threads = [
        b.thread(f"55119999901{n:02d}", b.placeholder(f"wamid.W{n}", f"55119999901{n:02d}", sent)) for n in range(3)
    ]
    world.deliver(b.chunk(0, 1, 100, *threads))
    counts = world.connections.get(connection.id).media_files  # type: ignore[union-attr]
    assert counts["placeholder"] == 3
    # six days after the sync completed: Meta may still send the follow-ups; one comes, and is kept
    clock.advance(days=6, hours=23)
    assert world.watchdog().run().placeholders_given_up == 0
    file = world.graph.add_media(b"photo" * 100, phone_number_id=b.PNID)
    followup = b.media_followup("wamid.W0", "5511999990100", sent)
    followup["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"] = file.id
    world.deliver(followup)
    assert world.run_media_jobs() == [MediaState.STORED]
    # seven days after it: the others never will; given up, once
    clock.advance(hours=1)
    report = world.watchdog().run()
    assert report.placeholders_given_up == 2 and report.errors == 0
    assert world.watchdog().run().placeholders_given_up == 0
    states = {m.id: m.media.state for m in world.all_messages().values() if m.media}
    assert states == {"wamid.W0": "stored", "wamid.W1": "unavailable", "wamid.W2": "unavailable"}
    counts = world.connections.get(connection.id).media_files  # type: ignore[union-attr]
    assert (counts["placeholder"], counts["unavailable"], counts["stored"]) == (0, 2, 1)
    assert world.metrics.totals["MediaPlaceholdersGivenUp"] == 2


def test_a_pending_file_whose_job_was_lost_is_queued_again_and_kept(world: InMemoryWorld, clock: Clock) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"document" * 500, mime_type="application/pdf", phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.L1", "5511999990020", T0, "document", image(file.id, mime_type="application/pdf")))
    world.media_jobs.take()  # the job is lost (a queue outage that outlived its retries)
    # its job may still be retrying for three hours: the watchdog leaves it
    clock.advance(hours=5)
    assert world.watchdog().run().media_requeued == 0
    assert world.media_jobs.jobs == []
    clock.advance(hours=2)
    assert world.watchdog().run().media_requeued == 1
    [job] = world.media_jobs.jobs
    assert (job.wamid, job.media_id) == ("wamid.L1", file.id)
    # its place in the listing moved: the next round does not queue it a second time
    assert world.watchdog().run().media_requeued == 0
    assert world.run_media_jobs() == [MediaState.STORED]
    assert message(world, connection, "wamid.L1").media.state == "stored"  # type: ignore[union-attr]
    clock.advance(hours=7)
    assert world.watchdog().run().media_requeued == 0  # nothing pending: not even looked for


def test_a_lost_job_found_after_meta_forgot_the_file_ends_expired(world: InMemoryWorld, clock: Clock) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"abc", phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.L2", "5511999990021", T0, "image", image(file.id)))
    world.media_jobs.take()
    clock.advance(days=8)
    assert world.watchdog().run().media_requeued == 1
    assert world.run_media_jobs() == [MediaState.EXPIRED]
    assert message(world, connection, "wamid.L2").media.state == "expired"  # type: ignore[union-attr]


# ---------------------------------------------------------------- review of the pipeline
@pytest.mark.parametrize(
    ("code", "title"),
    [(4, "Application request limit reached"), (80007, "Rate limit issues"), (130429, "Rate limit hit")],
)
def test_graph_throttling_answered_400_is_retried_then_kept(world: InMemoryWorld, code: int, title: str) -> None:
    # Meta rate limits by code, usually with HTTP 400: "later", not a refusal
    connection = connected(world)
    file = world.graph.add_media(b"q" * 10, phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.RL", "5511999990099", T0, "image", image(file.id)))
    [job] = world.media_jobs.take()
    world.graph.fail_next("media", meta_error(title, code, 400))
    fetcher = world.media_fetcher()
    with pytest.raises(TransientError):
        fetcher.fetch(job)
    media = message(world, connection, "wamid.RL").media
    assert media is not None and media.state == "pending" and (media.error or {}).get("code") == str(code)
    assert fetcher.fetch(job) is MediaState.STORED


def test_a_bug_of_ours_is_named_on_the_file_counted_and_raised(
    world: InMemoryWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"q" * 10, phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.BUG", "5511999990098", T0, "image", image(file.id)))
    [job] = world.media_jobs.take()
    fetcher = world.media_fetcher()

    def broken(secret_id: str) -> str:
        return {}[secret_id]  # a KeyError of ours

    monkeypatch.setattr(world.vault, "read", broken)
    with pytest.raises(KeyError):  # raised as it is: the queue retries it, the function's error is logged
        fetcher.fetch(job)
    assert world.metrics.totals["MediaInternalErrors"] == 1
    # the dead letter fails the file with our error, never as Meta's
    assert fetcher.give_up(job)
    media = message(world, connection, "wamid.BUG").media
    assert media is not None and media.state == "failed"
    assert (media.error or {}).get("code") == "internal" and "KeyError" in (media.error or {}).get("message", "")


def test_a_dead_letter_of_an_earlier_attempt_leaves_a_retried_file_alone(world: InMemoryWorld) -> None:
    connection = connected(world)
    file = world.graph.add_media(b"q" * 10, phone_number_id=b.PNID)
    world.deliver(b.live_raw("wamid.DL", "5511999990097", T0, "image", image(file.id)))
    [first] = world.media_jobs.take()
    second = first  # a second delivery's job of the same file (the same job)
    fetcher = world.media_fetcher()
    assert fetcher.give_up(first)  # the first job's dead letter: failed
    # a retry is asked for: the file is pending again, with a job of the new attempt
    retry = MediaRetry(world.connections, world.media_state, world.media_jobs, world.clock)
    assert retry.retry(connection.organization_id, connection.id) == 1
    [retried] = world.media_jobs.take()
    assert retried.retry == 1 and second.retry == 0
    # the other old job dead-letters now: it must not fail the file the retry is downloading
    assert not fetcher.give_up(second)
    assert message(world, connection, "wamid.DL").media.state == "pending"  # type: ignore[union-attr]
    assert fetcher.fetch(retried) is MediaState.STORED


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1", True),
        ("https://LOOKASIDE.fbsbx.com/x", True),
        ("https://lookaside.fbsbx.com:443/x", True),
        ("https://lookaside.fbsbx.com:8443/x", False),
        ("https://lookaside.fbsbx.com.evil.com/x", False),
        ("https://evil.com/lookaside.fbsbx.com", False),
        ("https://lookaside.fbsbx.com@evil.com/x", False),
        ("https://evil.com\\@lookaside.fbsbx.com/x", False),
        ("https://user@lookaside.fbsbx.com/x", False),
        ("https://lookaside.fbsbx.com:99999/x", False),
        ("http://lookaside.fbsbx.com/x", False),
        ("ftp://lookaside.fbsbx.com/x", False),
        ("http://127.0.0.1:8080/media", True),
        ("http://127.0.0.1:8081/media", False),
    ],
)
def test_the_token_goes_only_to_the_hosts_allowed(url: str, allowed: bool) -> None:
    hosts = AllowedHosts.parse("lookaside.fbsbx.com, http://127.0.0.1:8080")
    assert hosts.allows(url) is allowed


def test_numbers_in_other_scripts_are_no_numbers() -> None:
    # "²" and "٣" pass str.isdigit, which int() then refuses or reads otherwise
    now = datetime(2026, 12, 6, tzinfo=UTC)
    assert not media_url_valid("media/c/k", "²", "ab" * 32, "secret", now)
    assert not media_url_valid("media/c/k", "9999999999", "é" * 64, "secret", now)
    delivery = b.live("wamid.NUM", "5511999990096", T0)
    item = delivery["entry"][0]["changes"][0]["value"]["messages"][0]
    item["errors"] = [{"code": "²", "title": "odd"}, {"code": "131052", "title": "too big"}]
    assert MessageItem.model_validate(item).error_codes == frozenset({131052})
