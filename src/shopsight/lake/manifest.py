"""Batch manifests: the atomic publish step and the lake's source of truth."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel

from shopsight.lake.layout import MANIFEST_PREFIX, manifest_key
from shopsight.ports import ObjectStore


class ManifestEntry(BaseModel):
    """One published Parquet file."""

    key: str
    rows: int
    sha256: str
    min_ts: str
    max_ts: str
    schema_version: int
    kind: str
    name: str
    date: str


class BatchManifest(BaseModel):
    """What one compaction published. Deterministic: no wall-clock fields, so reruns are identical."""

    batch: int
    log_from: int
    log_to: int
    read: int
    written: int
    duplicates: int
    quarantined: int
    files: list[ManifestEntry]

    def to_bytes(self) -> bytes:
        """Canonical JSON."""
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def load_manifests(lake: ObjectStore) -> list[BatchManifest]:
    """Every published batch, in order."""
    return [BatchManifest.model_validate(orjson.loads(lake.get(k))) for k in lake.list(MANIFEST_PREFIX)]


def publish(lake: ObjectStore, manifest: BatchManifest) -> None:
    """Atomically publish a batch (its files must already be in place)."""
    lake.put_atomic(manifest_key(manifest.batch), manifest.to_bytes())


def as_dict(entry: ManifestEntry) -> dict[str, Any]:
    """Entry as plain data (for CLI JSON output)."""
    return entry.model_dump()
