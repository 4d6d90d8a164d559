"""A published demo warehouse in a folder, for tests and benchmarks that read the warehouse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from shopsight.config import load_settings
from shopsight.demo.generator import DemoConfig, generate
from shopsight.demo.writers import write_files
from shopsight.engines import open_warehouse_engine
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.platform import Platform
from shopsight.warehouse.pipeline import RunResult, run_pipeline


def build_from_log(platform: Platform, *, checks: bool = True) -> RunResult:
    """Compact the event log into the lake, then build and publish the warehouse on DuckDB.

    ``checks``: run the blocking quality checks first (they read the metadata store)."""
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        metadata = platform.metadata if checks else None
        return run_pipeline(platform.settings, platform.lake, engine, metadata=metadata)
    finally:
        engine.close()


def publish_demo_store(platform: Platform, *, events: int = 3_000, days: int = 60, seed: int = 3,
                       edit_files: Callable[[Path], None] | None = None) -> None:  # fmt: skip
    """Generate a demo store into ``<home>/demo``, import and compact it, build and publish the warehouse
    on DuckDB. ``edit_files`` may change the generated files (the folder) before they are imported."""
    files = platform.settings.home / "demo"
    write_files(generate(DemoConfig(events=events, days=days, seed=seed)), files)
    if edit_files is not None:
        edit_files(files)
    importer = Importer(platform, load_mapping("shopsight"))
    for path in sorted(files.glob("*.ndjson")):
        importer.import_file(path)
    build_from_log(platform)


def build_demo_warehouse(
    home: Path,
    *,
    events: int = 3_000,
    days: int = 60,
    seed: int = 3,
    edit_files: Callable[[Path], None] | None = None,
    **settings: Any,
) -> Platform:
    """A platform on ``home`` (extra ``settings`` overrides) with a published demo warehouse.

    Returns the open platform; the caller closes it.
    """
    platform = Platform(load_settings(home=home, log_group_commit_ms=0.0, **settings))
    publish_demo_store(platform, events=events, days=days, seed=seed, edit_files=edit_files)
    return platform
