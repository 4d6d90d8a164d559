"""Compaction: event log -> immutable Parquet partitioned by kind / name / date, exactly once.

Order of operations makes a crash at any point safe: (1) Parquet files under deterministic names
(a rerun rewrites identical bytes), (2) the batch manifest (the atomic publish), (3) the batch's ids in
``lake_ids`` (if lost, they are backfilled from the manifest on the next run).
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, insert, select

from shopsight.errors import CorruptData
from shopsight.lake.layout import QUARANTINE_PREFIX, RAW_SCHEMA, partition_key
from shopsight.lake.manifest import BatchManifest, ManifestEntry, load_manifests, publish
from shopsight.lake.reader import read_entry
from shopsight.metadata.tables import lake_ids
from shopsight.ports import EventLog, ObjectStore

Progress = Callable[[int], None]
_FIELDS = ("id", "kind", "name", "ts", "received_at", "source")


@dataclass
class CompactionResult:
    """Totals over every batch of one run."""

    batches: int = 0
    read: int = 0
    written: int = 0
    duplicates: int = 0
    quarantined: int = 0
    files: int = 0


def compact(
    *,
    log: EventLog,
    lake: ObjectStore,
    metadata: Engine,
    batch_records: int = 200_000,
    progress: Progress | None = None,
) -> CompactionResult:
    """Publish every log record not yet in the lake."""
    manifests = load_manifests(lake)
    _backfill_ids(lake, metadata, manifests)
    start = manifests[-1].log_to if manifests else 0
    batch = manifests[-1].batch + 1 if manifests else 1
    result = CompactionResult()
    end = log.end_offset()
    while start < end:
        records = log.read(start, min(batch_records, end - start))
        if not records:
            break
        manifest = _compact_batch(records, batch, lake, metadata)
        _accumulate(result, manifest)
        if progress is not None:
            progress(len(records))
        start, batch = manifest.log_to, batch + 1
    return result


def _accumulate(result: CompactionResult, manifest: BatchManifest) -> None:
    result.batches += 1
    result.read += manifest.read
    result.written += manifest.written
    result.duplicates += manifest.duplicates
    result.quarantined += manifest.quarantined
    result.files += len(manifest.files)


def _compact_batch(records: list[Any], batch: int, lake: ObjectStore, metadata: Engine) -> BatchManifest:
    first, last = records[0].offset, records[-1].offset
    rows, bad = _parse(records)
    fresh = _drop_published(rows, metadata)
    if bad:
        lake.put_atomic(f"{QUARANTINE_PREFIX}part-{first:020d}-{last:020d}.ndjson", b"\n".join(bad) + b"\n")
    entries = [_write_partition(lake, key, group) for key, group in sorted(_partitions(fresh).items())]
    manifest = BatchManifest(
        batch=batch,
        log_from=first,
        log_to=last + 1,
        read=len(records),
        written=len(fresh),
        duplicates=len(rows) - len(fresh),
        quarantined=len(bad),
        files=entries,
    )
    publish(lake, manifest)
    _remember_ids(metadata, [r["id"] for r in fresh], batch)
    return manifest


def _parse(records: list[Any]) -> tuple[list[dict[str, Any]], list[bytes]]:
    rows: list[dict[str, Any]] = []
    bad: list[bytes] = []
    for record in records:
        try:
            row = orjson.loads(record.payload)
            if not all(isinstance(row.get(f), str) for f in _FIELDS):
                raise ValueError("missing envelope field")
            row["ts"] = datetime.fromisoformat(row["ts"])
            row["received_at"] = datetime.fromisoformat(row["received_at"])
        except (ValueError, TypeError, AttributeError) as exc:
            bad.append(
                orjson.dumps({"offset": record.offset, "reason": str(exc), "raw": record.payload.hex()})
            )
            continue
        row["log_offset"] = record.offset
        rows.append(row)
    return rows, bad


def _drop_published(rows: list[dict[str, Any]], metadata: Engine) -> list[dict[str, Any]]:
    """First occurrence wins inside the batch; ids already in the lake are dropped."""
    seen: set[str] = set()
    ids = list({r["id"] for r in rows})
    with metadata.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            seen.update(conn.execute(select(lake_ids.c.id).where(lake_ids.c.id.in_(chunk))).scalars())
    fresh = []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            fresh.append(row)
    return fresh


def _partitions(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["kind"], row["name"], row["ts"].date().isoformat())].append(row)
    return groups


def _write_partition(
    lake: ObjectStore, key: tuple[str, str, str], rows: list[dict[str, Any]]
) -> ManifestEntry:
    kind, name, date = key
    rows.sort(key=lambda r: (r["ts"], r["log_offset"]))
    offsets = [r["log_offset"] for r in rows]
    object_key = partition_key(kind, name, date, min(offsets), max(offsets))
    data = _parquet_bytes(rows)
    digest = hashlib.sha256(data).hexdigest()
    if lake.exists(object_key):
        if hashlib.sha256(lake.get(object_key)).hexdigest() != digest:
            raise CorruptData(f"{object_key} exists with different content; history is never rewritten")
    else:
        lake.put_atomic(object_key, data)
    return ManifestEntry(
        key=object_key,
        rows=len(rows),
        sha256=digest,
        min_ts=rows[0]["ts"].isoformat(),
        max_ts=rows[-1]["ts"].isoformat(),
        schema_version=max(int(r.get("schema_version", 1)) for r in rows),
        kind=kind,
        name=name,
        date=date,
    )


def _parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    columns = {
        "id": [r["id"] for r in rows],
        "kind": [r["kind"] for r in rows],
        "name": [r["name"] for r in rows],
        "ts": [r["ts"] for r in rows],
        "received_at": [r["received_at"] for r in rows],
        "source": [r["source"] for r in rows],
        "schema_version": [int(r.get("schema_version", 1)) for r in rows],
        "subject": [r.get("subject") for r in rows],
        "payload": [orjson.dumps(r.get("payload"), option=orjson.OPT_SORT_KEYS).decode() for r in rows],
        "log_offset": [r["log_offset"] for r in rows],
    }
    table = pa.table(columns, schema=RAW_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def _remember_ids(metadata: Engine, ids: list[str], batch: int) -> None:
    if not ids:
        return
    with metadata.begin() as conn:
        conn.execute(insert(lake_ids), [{"id": i, "batch": batch} for i in ids])


def _backfill_ids(lake: ObjectStore, metadata: Engine, manifests: list[BatchManifest]) -> None:
    """Re-record ids of a batch whose manifest was published but whose ids were not (crash)."""
    if not manifests:
        return
    with metadata.connect() as conn:
        known = conn.execute(select(func.max(lake_ids.c.batch))).scalar() or 0
    for manifest in manifests:
        if manifest.batch > known and manifest.written:
            ids = [i for entry in manifest.files for i in read_entry(lake, entry).column("id").to_pylist()]
            _remember_ids(metadata, ids, manifest.batch)
