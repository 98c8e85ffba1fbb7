"""Issue 21's media benchmarks (``benchmarks.media``) at tiny sizes: the work is done and every figure is
positive (no timing is asserted); and the suite records their keys with their targets."""

from __future__ import annotations

import os

import pytest

from benchmarks import media, suite
from tests.builders import payloads as b
from whatrack.adapters.media_files import PART_BYTES

MEDIA_KEYS = ["media_dynamodb_requests_per_file", "media_throughput_vs_floor", "media_peak_rss_mb_100mb"]


@pytest.mark.timeout(240)
def test_each_media_measurement_downloads_its_files_and_answers_positive_figures() -> None:
    with media.media_world() as world:
        # every file is checked stored (Meta's sha256 and size, the object in the bucket) or this raises
        requests = media.requests_per_file(world, photos=2, size=5_000)
        speed = media.throughput(world, size=PART_BYTES + 300_000, rounds=1)  # two parts: the multipart paths
        rss = media.peak_rss(world, size=2_000_000, baseline_size=1_000)

    assert requests["files"] == 2 and len(requests["dynamodb_samples"]) == 2
    assert all(sample > 0 for sample in requests["dynamodb_samples"])
    assert requests["s3_per_file"] > 0 and requests["secretsmanager_per_file"] > 0
    assert requests["graph_calls_per_file"] == {"media": 1.0, "media_download": 1.0}
    assert requests["first_file"]["operations"]["dynamodb:UpdateItem"] >= 1  # the claim

    assert speed["file_bytes"] == PART_BYTES + 300_000 and len(speed["ratios"]) == 1
    assert speed["ratio"] > 0 and min(speed["our_seconds"]) > 0 and min(speed["floor_seconds"]) > 0

    for name, size in (("document", 2_000_000), ("photo", 1_000)):
        assert rss[name]["file_bytes"] == size and not rss[name]["error"]
        assert rss[name]["peak_rss_mb"] >= rss[name]["after_import_mb"] > 0


def test_the_media_keys_are_issue_keys_with_targets() -> None:
    assert list(suite.MEDIA_TARGETS) == MEDIA_KEYS
    assert list(suite.ALL_TARGETS)[-7:-4] == MEDIA_KEYS
    assert suite.STEP_KEYS["media"] == MEDIA_KEYS
    assert suite.entry("media_dynamodb_requests_per_file", 3, "t")["pass"]
    assert not suite.entry("media_dynamodb_requests_per_file", 5, "t")["pass"]
    assert not suite.entry("media_throughput_vs_floor", 0.79, "t")["pass"]
    assert not suite.entry("media_peak_rss_mb_100mb", None, "t")["pass"]


def test_a_file_that_is_not_stored_fails_the_measurement_and_the_environment_is_given_back() -> None:
    before = dict(os.environ)
    with media.media_world() as world:
        file = world.meta.add_media(size=1_000, phone_number_id=b.PNID)
        wamid, _ = world.announce(file, "image")  # announced, its job never run: still pending
        with pytest.raises(media.MediaBenchError, match="not stored"):
            world.check_stored(wamid, file)
    assert dict(os.environ) == before
