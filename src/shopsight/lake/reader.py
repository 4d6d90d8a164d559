"""Reading the published lake (through manifests only: unpublished files are invisible)."""

from __future__ import annotations

import hashlib
import io

import pyarrow as pa
import pyarrow.parquet as pq

from shopsight.lake.layout import RAW_SCHEMA
from shopsight.lake.manifest import ManifestEntry, load_manifests
from shopsight.ports import ObjectStore


def published_files(
    lake: ObjectStore,
    *,
    kind: str | None = None,
    name: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> list[ManifestEntry]:
    """Published files, filtered by kind, event/entity name and date range (ISO dates, inclusive)."""
    entries = [entry for manifest in load_manifests(lake) for entry in manifest.files]
    return [
        e
        for e in entries
        if (kind is None or e.kind == kind)
        and (name is None or e.name == name)
        and (date_from is None or e.date >= date_from)
        and (date_to is None or e.date <= date_to)
    ]


def read_entry(lake: ObjectStore, entry: ManifestEntry) -> pa.Table:
    """One published file as an Arrow table."""
    return pq.read_table(io.BytesIO(lake.get(entry.key)))


def read_records(lake: ObjectStore, **filters: str | None) -> pa.Table:
    """All published records matching the filters of :func:`published_files`."""
    tables = [read_entry(lake, e) for e in published_files(lake, **filters)]
    return pa.concat_tables(tables) if tables else RAW_SCHEMA.empty_table()


def verify(lake: ObjectStore) -> list[str]:
    """Problems found re-checking every published file's checksum (empty when intact)."""
    problems = []
    for entry in published_files(lake):
        if not lake.exists(entry.key):
            problems.append(f"{entry.key}: missing")
        elif hashlib.sha256(lake.get(entry.key)).hexdigest() != entry.sha256:
            problems.append(f"{entry.key}: checksum mismatch")
    return problems
