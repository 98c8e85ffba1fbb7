"""Capacity and cost of 1,000 onboardings an hour (100,000 history messages each), from the measured figures.

``python -m benchmarks.capacity`` (``make capacity``) reads ``bench/results/latest.json`` and rewrites
the generated part of ``docs/capacity.md`` (between its markers). Every input that is not measured
is a named constant below (prices, latency), so the arithmetic can be checked by hand.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generator import chunk_messages, generate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
DOC = ROOT / "docs" / "capacity.md"
BEGIN, END = "<!-- capacity:begin -->", "<!-- capacity:end -->"

ONBOARDINGS_PER_HOUR = 1_000
MESSAGES_PER_ONBOARDING = 100_000

PRICES_AS_OF = "2026-11-26 (AWS public price pages, us-east-1, on-demand, no free tier)"
PRICE = {
    "ddb_write_request_unit": 0.625 / 1e6,  # DynamoDB on-demand, per write request unit
    "ddb_read_request_unit": 0.125 / 1e6,  # per read request unit
    "ddb_gb_month": 0.25,  # DynamoDB Standard storage
    "lambda_gb_second": 0.0000166667,  # x86
    "lambda_request": 0.20 / 1e6,
    "sqs_request": 0.40 / 1e6,  # standard queue, per 64 KB request
    "s3_put": 0.005 / 1000,
    "s3_get": 0.0004 / 1000,
    "s3_gb_month": 0.023,
    "http_api_request": 1.00 / 1e6,  # API Gateway HTTP API, metered per 512 KB
}
DDB_LATENCY_S = 0.008  # one in-region DynamoDB request, as seen from Lambda (assumed, typical 5-10 ms)
PARTITION_WCU_PER_S = 1_000  # DynamoDB's per-partition write limit
HISTORY_MEMORY_GB = 1.0  # template.yaml: HistoryChunkFunction MemorySize 1024
INGEST_MEMORY_GB = 1.0  # WebhookIngestFunction MemorySize 1024
ACCOUNT_CONCURRENCY = 1_000  # default Lambda concurrency per region
BYTES_PER_STORED_MESSAGE = 700  # a message item with its index attributes (assumed from item sizes)
READ_SHARE = 0.2  # share of history_chunk's requests that are reads (GetItem), from the measured mix


@dataclass(frozen=True)
class Plan:
    chunks_per_onboarding: int
    bytes_per_chunk: float
    requests_per_message: float
    write_units_per_message: float
    transactions_per_message: float
    redelivery_requests: float


def plan_from(results: dict[str, Any]) -> Plan:
    keys = results["keys"]
    history = generate(MESSAGES_PER_ONBOARDING, seed=11)
    bodies = history.bodies()
    per_chunk = keys["ddb_requests_per_1000_history_messages"].get("per_chunk", [])
    messages = sum(c["messages"] for c in per_chunk) or 1
    transactions = sum(c["operations"].get("TransactWriteItems", 0) for c in per_chunk)
    return Plan(
        chunks_per_onboarding=len(history.chunks),
        bytes_per_chunk=sum(len(b) for b in bodies) / len(bodies),
        requests_per_message=(keys["ddb_requests_per_1000_history_messages"]["value"] or 0) / 1000,
        write_units_per_message=keys["write_units_per_history_message"]["value"] or 0,
        transactions_per_message=transactions / messages,
        redelivery_requests=keys["ddb_requests_redelivered_chunk"]["value"] or 0,
    )


def compute(results: dict[str, Any]) -> dict[str, Any]:
    p = plan_from(results)
    per_hour_messages = ONBOARDINGS_PER_HOUR * MESSAGES_PER_ONBOARDING
    msg_s = per_hour_messages / 3600
    chunks_s = ONBOARDINGS_PER_HOUR * p.chunks_per_onboarding / 3600
    messages_per_chunk = MESSAGES_PER_ONBOARDING / p.chunks_per_onboarding
    # history_chunk's duration: its requests one after another at DDB_LATENCY_S (today's code is sequential)
    chunk_seconds = messages_per_chunk * p.requests_per_message * DDB_LATENCY_S
    history_concurrency = chunks_s * chunk_seconds
    ingest_seconds = results["keys"]["ingest_3mb_vs_floor"].get("handler_seconds", {}).get("median", 0.1) or 0.1
    ingest_concurrency = chunks_s * ingest_seconds
    wcu_s = msg_s * p.write_units_per_message
    requests_s = msg_s * p.requests_per_message
    # one connection: every message transaction also increments the connection item (2 WCU per KB, x2 tx)
    connection_tx_s = p.transactions_per_message * messages_per_chunk / chunk_seconds if chunk_seconds else 0
    connection_wcu_s_per_chunk = connection_tx_s * 2
    chunks_to_break = PARTITION_WCU_PER_S / connection_wcu_s_per_chunk if connection_wcu_s_per_chunk else math.inf
    cost = {
        "DynamoDB writes": MESSAGES_PER_ONBOARDING * p.write_units_per_message * PRICE["ddb_write_request_unit"],
        "DynamoDB reads": MESSAGES_PER_ONBOARDING
        * p.requests_per_message
        * READ_SHARE
        * PRICE["ddb_read_request_unit"],
        "Lambda history_chunk": p.chunks_per_onboarding
        * (chunk_seconds * HISTORY_MEMORY_GB * PRICE["lambda_gb_second"] + PRICE["lambda_request"]),
        "Lambda webhook_ingest": p.chunks_per_onboarding
        * (ingest_seconds * INGEST_MEMORY_GB * PRICE["lambda_gb_second"] + PRICE["lambda_request"]),
        "SQS (send, receive, delete a claim check)": p.chunks_per_onboarding * 3 * PRICE["sqs_request"],
        "S3 (archive put + consumer get)": p.chunks_per_onboarding * (PRICE["s3_put"] + PRICE["s3_get"]),
        "API Gateway (per 512 KB)": p.chunks_per_onboarding
        * math.ceil(p.bytes_per_chunk / 512_000)
        * PRICE["http_api_request"],
    }
    storage_month = {
        "DynamoDB items (per month)": MESSAGES_PER_ONBOARDING * BYTES_PER_STORED_MESSAGE / 1e9 * PRICE["ddb_gb_month"],
        "S3 archive (per month)": p.chunks_per_onboarding * p.bytes_per_chunk / 1e9 * PRICE["s3_gb_month"],
    }
    return {
        "plan": p.__dict__,
        "messages_per_second": msg_s,
        "chunks_per_second": chunks_s,
        "messages_per_chunk": messages_per_chunk,
        "history_chunk_seconds": chunk_seconds,
        "history_concurrency": history_concurrency,
        "ingest_seconds": ingest_seconds,
        "ingest_concurrency": ingest_concurrency,
        "ddb_requests_per_second": requests_s,
        "ddb_wcu_per_second": wcu_s,
        "sqs_requests_per_second": chunks_s * 3,
        "connection_wcu_per_second_per_chunk": connection_wcu_s_per_chunk,
        "concurrent_chunks_of_one_connection_to_break": chunks_to_break,
        "cost_per_onboarding": cost,
        "cost_per_onboarding_total": sum(cost.values()),
        "storage_per_onboarding_month": storage_month,
    }


def markdown(results: dict[str, Any], c: dict[str, Any]) -> str:
    p = c["plan"]
    rows = [
        ("history messages per second", f"{c['messages_per_second']:,.0f}"),
        (
            "chunks per onboarding (generator, 3 MB cap)",
            f"{p['chunks_per_onboarding']} (avg {p['bytes_per_chunk'] / 1e6:.2f} MB)",
        ),
        ("chunks per second", f"{c['chunks_per_second']:.2f}"),
        ("DynamoDB requests per message (measured)", f"{p['requests_per_message']:.3f}"),
        ("history_chunk duration per chunk", f"{c['history_chunk_seconds']:,.1f} s"),
        ("Lambda concurrency, history_chunk", f"{c['history_concurrency']:,.0f}"),
        ("Lambda concurrency, webhook_ingest", f"{c['ingest_concurrency']:.2f}"),
        ("DynamoDB requests per second", f"{c['ddb_requests_per_second']:,.0f}"),
        ("DynamoDB write units per second", f"{c['ddb_wcu_per_second']:,.0f}"),
        ("SQS requests per second", f"{c['sqs_requests_per_second']:.1f}"),
        (
            "one connection's counter item, WCU/s per chunk importing",
            f"{c['connection_wcu_per_second_per_chunk']:,.0f}",
        ),
        (
            "chunks of one connection at once before its partition's 1,000 WCU/s",
            f"{c['concurrent_chunks_of_one_connection_to_break']:.1f}",
        ),
    ]
    lines = [
        f"_Generated by `make capacity` from `bench/results/latest.json` ({results['generated_at']}); "
        f"prices {PRICES_AS_OF}; DynamoDB latency assumed {DDB_LATENCY_S * 1000:g} ms per request._",
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {a} | {b} |" for a, b in rows],
        "",
        "| cost per onboarding (100,000 messages) | USD |",
        "|---|---|",
        *[f"| {k} | {v:.4f} |" for k, v in c["cost_per_onboarding"].items()],
        f"| **total** | **{c['cost_per_onboarding_total']:.4f}** |",
        *[f"| {k} | {v:.4f} |" for k, v in c["storage_per_onboarding_month"].items()],
        "",
        "Prices used (USD): " + ", ".join(f"{k} {v:.10g}" for k, v in PRICE.items()) + ".",
    ]
    return "\n".join(lines)


def write(text: str, doc: Path = DOC) -> None:
    block = f"{BEGIN}\n{text}\n{END}"
    current = doc.read_text() if doc.exists() else f"# Capacity\n\n{BEGIN}\n{END}\n"
    head, rest = current.split(BEGIN, 1)
    doc.write_text(head + block + rest.split(END, 1)[1])


def main(argv: list[str]) -> None:
    results = json.loads((Path(argv[0]) if argv else RESULTS).read_text())
    computed = compute(results)
    text = markdown(results, computed)
    print(text)
    write(text)


__all__ = ["chunk_messages", "compute", "main", "markdown"]

if __name__ == "__main__":
    main(sys.argv[1:])
