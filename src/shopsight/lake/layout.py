"""Where things live in the lake, and the Parquet schema of raw records."""

from __future__ import annotations

import re

import pyarrow as pa

MANIFEST_PREFIX = "_manifest/"
QUARANTINE_PREFIX = "_quarantine/"

RAW_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("kind", pa.string()),
        ("name", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
        ("schema_version", pa.int32()),
        ("subject", pa.string()),
        ("payload", pa.string()),
        ("log_offset", pa.int64()),
    ]
)


def slug(name: str) -> str:
    """'Order Completed' -> 'order_completed'."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "unnamed"


def partition_key(kind: str, name: str, date: str, first: int, last: int) -> str:
    """The object key of one Parquet file."""
    return f"kind={kind}/name={slug(name)}/date={date}/part-{first:020d}-{last:020d}.parquet"


def manifest_key(batch: int) -> str:
    """The object key of one batch manifest."""
    return f"{MANIFEST_PREFIX}batch-{batch:08d}.json"
