"""Incremental runs read only new raw partitions and end up equal to a full refresh."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from shopsight.demo.generator import DemoConfig, generate
from shopsight.demo.writers import write_files
from shopsight.engines import open_warehouse_engine
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.lake.manifest import load_manifests
from shopsight.platform import Platform
from shopsight.warehouse.compare import compare_tables, read_table
from shopsight.warehouse.engine import WarehouseEngine
from shopsight.warehouse.pipeline import RunOptions, RunResult, run_pipeline
from shopsight.warehouse.runs import watermark
from shopsight.warehouse.store import PublishedVersion


@pytest.fixture
def engine(platform: Platform) -> Iterator[WarehouseEngine]:
    opened = open_warehouse_engine(platform.settings, "duckdb")
    yield opened
    opened.close()


def _split_demo(folder: Path) -> tuple[list[Path], list[Path]]:
    """The demo in two deliveries; the second holds every third event: late, and in mid-session."""
    write_files(generate(DemoConfig(events=1_500, days=20, seed=7)), folder)
    lines = (folder / "events.ndjson").read_bytes().splitlines(keepends=True)
    first, second = folder / "early", folder / "late"
    first.mkdir()
    second.mkdir()
    (first / "events.ndjson").write_bytes(b"".join(x for i, x in enumerate(lines) if i % 3))
    (second / "events.ndjson").write_bytes(b"".join(x for i, x in enumerate(lines) if not i % 3))
    entities = [p for p in sorted(folder.glob("*.ndjson")) if p.name != "events.ndjson"]
    return [first / "events.ndjson", *entities], [second / "events.ndjson"]


def _deliver(platform: Platform, files: list[Path]) -> None:
    importer = Importer(platform, load_mapping("shopsight"))
    for path in files:
        assert importer.import_file(path).error is None
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)


def _run(platform: Platform, engine: WarehouseEngine, **options: object) -> RunResult:
    return run_pipeline(
        platform.settings,
        platform.lake,
        engine,
        options=RunOptions(**options),  # type: ignore[arg-type]
        metadata=platform.metadata,
    )


def _assert_same(left: PublishedVersion, right: PublishedVersion) -> None:
    assert set(left.tables) == set(right.tables)
    problems = {
        name: diff.problems[:3]
        for name in sorted(left.tables)
        if (
            diff := compare_tables(
                name, read_table(left.tables[name].files), read_table(right.tables[name].files)
            )
        ).problems
    }
    assert not problems, problems


def test_second_run_reads_only_new_partitions_and_equals_a_full_refresh(
    platform: Platform, engine: WarehouseEngine, tmp_path: Path
) -> None:
    early, late = _split_demo(tmp_path / "demo")
    _deliver(platform, early)
    first = _run(platform, engine)
    assert first.mode == "full"
    batches_before = load_manifests(platform.lake)[-1].batch
    assert watermark(platform.metadata, first.version) == batches_before  # kept in the metadata store

    _deliver(platform, late)
    new_files = [e for m in load_manifests(platform.lake) if m.batch > batches_before for e in m.files]
    incremental = _run(platform, engine)
    assert incremental.mode == "incremental"
    assert incremental.raw_files == len(new_files) > 0  # nothing old is read again
    assert incremental.rows["stg_event"] > first.rows["stg_event"]

    full = _run(platform, engine, full_refresh=True)
    assert full.mode == "full" and full.raw_files > incremental.raw_files
    _assert_same(incremental.version, full.version)


def test_a_rerun_with_nothing_new_changes_nothing(
    platform: Platform, engine: WarehouseEngine, tmp_path: Path
) -> None:
    early, _ = _split_demo(tmp_path / "demo")
    _deliver(platform, early)
    first = _run(platform, engine)
    again = _run(platform, engine)
    assert again.mode == "up-to-date" and again.version == first.version and again.raw_files == 0


def test_backfill_of_a_date_range_equals_a_full_refresh(
    platform: Platform, engine: WarehouseEngine, tmp_path: Path
) -> None:
    early, late = _split_demo(tmp_path / "demo")
    _deliver(platform, [*early, *late])
    _run(platform, engine)
    backfill = _run(platform, engine, start=date(2024, 1, 5), end=date(2024, 1, 8))
    assert backfill.mode == "incremental"
    in_range = [
        e for m in load_manifests(platform.lake) for e in m.files if "2024-01-05" <= e.date <= "2024-01-08"
    ]
    assert backfill.raw_files == len(in_range) > 0
    full = _run(platform, engine, full_refresh=True)
    _assert_same(backfill.version, full.version)
