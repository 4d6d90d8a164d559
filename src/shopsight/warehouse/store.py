"""Table versions on disk and the atomic switch between them (write-audit-publish).

A run writes every table under ``staging/<run>/``; only when all tables are built and the blocking checks
pass is the folder renamed to ``versions/<run>/`` and ``CURRENT.json`` replaced (temp file + rename).
Readers resolve ``CURRENT.json`` once and read that version, so they never see a half-built table.
"""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from pydantic import BaseModel

from shopsight.errors import ShopSightError

KEEP_VERSIONS = 3


class NothingPublished(ShopSightError):
    """The warehouse has no published version yet."""


class TableVersion(BaseModel):
    """One table of a published version."""

    rows: int
    files: list[str]


class PublishedVersion(BaseModel):
    """What ``CURRENT.json`` points at."""

    version: str
    engine: str
    built_at: str
    tables: dict[str, TableVersion]
    lake_batch: int = 0  # watermark: every raw file of lake batches up to this one is in the version
    fingerprint: str = ""  # settings and model the version was built with (a change forces a full refresh)


def parquet_files(folder: Path) -> list[str]:
    """The Parquet files of one table folder, sorted."""
    return sorted(str(p) for p in folder.glob("*.parquet"))


def parquet_rows(files: list[str]) -> int:
    """Row count from the Parquet footers (no data read)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


class WarehouseStore:
    """The warehouse folder: staging runs, published versions and the CURRENT pointer."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pointer = root / "CURRENT.json"

    def new_run(self) -> tuple[str, Path]:
        """A fresh run id and its (empty) staging folder."""
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        folder = self.root / "staging" / run_id
        folder.mkdir(parents=True)
        return run_id, folder

    def publish(
        self, run_id: str, engine: str, tables: list[str], *, lake_batch: int = 0, fingerprint: str = ""
    ) -> PublishedVersion:
        """Move a staged run into place and switch ``CURRENT.json`` to it atomically."""
        staged = self.root / "staging" / run_id
        final = self.root / "versions" / run_id
        final.parent.mkdir(parents=True, exist_ok=True)
        staged.rename(final)
        built: dict[str, TableVersion] = {}
        for name in tables:
            files = parquet_files(final / name)
            built[name] = TableVersion(rows=parquet_rows(files), files=files)
        version = PublishedVersion(
            version=run_id,
            engine=engine,
            built_at=datetime.now(UTC).isoformat(),
            tables=built,
            lake_batch=lake_batch,
            fingerprint=fingerprint,
        )
        temporary = self.pointer.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(version.model_dump(), option=orjson.OPT_INDENT_2))
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        temporary.replace(self.pointer)
        self._prune(keep=run_id)
        return version

    def discard(self, run_id: str) -> None:
        """Drop a staged run that will not be published."""
        shutil.rmtree(self.root / "staging" / run_id, ignore_errors=True)

    def latest(self) -> PublishedVersion | None:
        """The published version, or None before the first publish."""
        return self.current() if self.pointer.exists() else None

    def current(self) -> PublishedVersion:
        """The published version readers should use."""
        if not self.pointer.exists():
            raise NothingPublished("the warehouse is empty: run `shopsight pipeline run` first")
        return PublishedVersion.model_validate(orjson.loads(self.pointer.read_bytes()))

    def _prune(self, keep: str) -> None:
        """Keep the newest versions (readers that resolved an older pointer a moment ago still finish)."""
        versions = sorted((self.root / "versions").iterdir())
        for old in versions[:-KEEP_VERSIONS]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)
