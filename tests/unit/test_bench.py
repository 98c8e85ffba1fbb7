"""The benchmark's pieces (no timings): the generator's shape, the write-unit rule, the results file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from benchmarks import capacity, suite
from benchmarks.generator import MAX_BODY_BYTES, Shape, chunk_messages, generate
from benchmarks.meter import _wire_size, units

ISSUE_KEYS = [
    "ddb_requests_per_1000_history_messages",
    "ddb_requests_redelivered_chunk",
    "write_units_per_history_message",
    "import_throughput_vs_batch_floor",
    "import_throughput_vs_seed_loop",
    "ingest_3mb_vs_floor",
    "cold_start_vs_client_floor_max",
    "cold_start_ingest_vs_client_floor",
    "peak_rss_mb_3mb_chunk",
    "local_stack_4000_msg_chunk_seconds",
    "local_stack_growth_5th_vs_1st",
]


def metadata(document: dict) -> dict:  # type: ignore[type-arg]
    return dict(document["entry"][0]["changes"][0]["value"]["history"][0]["metadata"])


def test_generator_is_deterministic() -> None:
    assert generate(2_000, seed=3).bodies() == generate(2_000, seed=3).bodies()
    assert generate(2_000, seed=3).bodies() != generate(2_000, seed=4).bodies()


def test_thread_sizes_are_skewed() -> None:
    sizes = generate(30_000, seed=11).thread_sizes
    short = sum(1 for s in sizes if s <= 5) / len(sizes)
    assert short > 0.6  # most customers wrote a few times
    assert max(sizes) >= 100  # a few wrote hundreds
    assert sorted(sizes)[len(sizes) // 2] <= 5


def test_phases_orders_and_progress_as_meta_sends_them() -> None:
    history = generate(30_000, seed=11)
    seen = [metadata(c) for c in history.chunks]
    assert {m["phase"] for m in seen} == {0, 1, 2}
    assert [m["phase"] for m in seen] == sorted(m["phase"] for m in seen)
    for phase in (0, 1, 2):
        assert [m["chunk_order"] for m in seen if m["phase"] == phase] == list(
            range(1, 1 + sum(1 for m in seen if m["phase"] == phase))
        )
    progress = [m["progress"] for m in seen]
    assert progress == sorted(progress) and progress[-1] == 100 and progress[:-1] == [p for p in progress if p < 100]
    assert sum(chunk_messages(c) for c in history.chunks) == history.messages


def test_chunks_are_packed_up_to_the_3mb_cap() -> None:
    bodies = generate(30_000, seed=11).bodies()
    assert max(len(b) for b in bodies) <= MAX_BODY_BYTES
    assert max(len(b) for b in bodies) > 0.95 * MAX_BODY_BYTES
    small = generate(3_000, seed=2, shape=Shape(max_body_bytes=60_000))
    assert all(len(b) <= 60_000 for b in small.bodies())
    assert sum(chunk_messages(c) for c in small.chunks) == small.messages  # big threads split, nothing lost


def test_mixed_types_and_directions() -> None:
    messages = [
        m
        for c in generate(5_000, seed=11).chunks
        for h in c["entry"][0]["changes"][0]["value"]["history"]
        for t in h["threads"]
        for m in t["messages"]
    ]
    kinds = Counter(m["type"] for m in messages)
    assert {"text", "media_placeholder", "image", "location", "contacts", "interactive"} <= set(kinds)
    assert kinds["text"] > len(messages) / 2
    assert all(m["image"].get("caption") for m in messages if m["type"] == "image")
    outbound = [m for m in messages if m["history_context"].get("from_me")]
    assert 0.2 < len(outbound) / len(messages) < 0.6
    assert all(m["from"] == "5491155550100" for m in outbound)


def test_write_units_by_item_size() -> None:
    assert units(0) == 1 and units(1024) == 1 and units(1025) == 2
    item = {"pk": {"S": "ab"}, "n": {"N": "12345"}, "m": {"M": {"x": {"BOOL": True}}}}
    assert _wire_size(item) == (2 + 2) + (1 + 4) + (1 + 3 + 1 + 1 + 1)


def fake_results() -> dict:  # type: ignore[type-arg]
    keys = {key: suite.entry(key, 1.0, "test", samples=[1.0, 2.0]) for key in suite.TARGETS}
    keys["ddb_requests_per_1000_history_messages"]["per_chunk"] = [
        {"messages": 1000, "operations": {"TransactWriteItems": 20}}
    ]
    keys["ingest_3mb_vs_floor"]["handler_seconds"] = {"median": 0.1}
    return {"generated_at": "now", "machine": {"python": "3.12"}, "seconds": 1.0, "keys": keys}


def test_results_file_has_every_key_and_the_table_keeps_the_prose(tmp_path: Path) -> None:
    assert list(suite.TARGETS) == ISSUE_KEYS
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nbefore\n\n{suite.BEGIN}\nstale table\n{suite.END}\n\nafter\n")
    results_path = tmp_path / "latest.json"
    suite.write(fake_results(), results_path, doc)
    written = json.loads(results_path.read_text())
    assert list(written["keys"]) == ISSUE_KEYS
    for found in written["keys"].values():
        assert {"value", "target", "pass", "how", "median", "spread"} <= set(found)
    text = doc.read_text()
    assert "before" in text and "after" in text and "stale table" not in text
    assert all(f"`{key}`" in text for key in ISSUE_KEYS)


def test_a_missed_target_fails() -> None:
    assert not suite.entry("ddb_requests_redelivered_chunk", 6, "t")["pass"]
    assert suite.entry("ddb_requests_redelivered_chunk", 5, "t")["pass"]
    assert not suite.entry("import_throughput_vs_seed_loop", 9.9, "t")["pass"]
    assert not suite.entry("peak_rss_mb_3mb_chunk", None, "t")["pass"]
    assert not suite.entry("peak_rss_mb_3mb_chunk", 10, "t", errors=["broke"])["pass"]


def test_capacity_is_computed_from_the_results() -> None:
    computed = capacity.compute(fake_results())
    assert computed["messages_per_second"] == 100_000 * 1_000 / 3600
    assert computed["cost_per_onboarding_total"] > 0
    assert "| **total** |" in capacity.markdown(fake_results(), computed)
