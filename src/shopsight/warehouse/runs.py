"""Published warehouse runs in the metadata store: the watermark each incremental run starts from."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from shopsight.metadata.tables import warehouse_runs
from shopsight.warehouse.store import PublishedVersion


def record_published(metadata: Engine, version: PublishedVersion, mode: str, raw_files: int) -> None:
    """Remember a published version and the lake batch it holds (after the publish succeeded)."""
    row = {
        "version": version.version,
        "engine": version.engine,
        "mode": mode,
        "lake_batch": version.lake_batch,
        "raw_files": raw_files,
        "published_at": datetime.now(UTC),
    }
    with metadata.begin() as conn:
        conn.execute(insert(warehouse_runs), [row])


def watermark(metadata: Engine, version: PublishedVersion) -> int:
    """The last lake batch ``version`` holds, as the metadata store recorded it.

    A version published while the metadata store was not written (a crash between the two) falls back
    to the copy in its own CURRENT.json, which the publish wrote atomically.
    """
    query = select(warehouse_runs.c.lake_batch).where(warehouse_runs.c.version == version.version)
    with metadata.connect() as conn:
        recorded = conn.execute(query).scalar_one_or_none()
    return int(recorded) if recorded is not None else version.lake_batch
