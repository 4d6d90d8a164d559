"""The same transforms on DuckDB and on PySpark (local mode) build equal warehouses.

Both engines build from one lake: the demo store, then the real online-retail dataset. Equal means same
row counts, same key sets, numeric sums within 1e-9 relative, and then every value row by row.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopsight.config import load_settings
from shopsight.demo.generator import DemoConfig, generate
from shopsight.demo.writers import write_files
from shopsight.engines import open_warehouse_engine
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.platform import Platform
from shopsight.warehouse.compare import compare_tables, read_table
from shopsight.warehouse.engine import WarehouseEngine
from shopsight.warehouse.model import TABLES
from shopsight.warehouse.pipeline import RunOptions, run_pipeline
from shopsight.warehouse.store import PublishedVersion

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
ONLINE_RETAIL = DATASETS / "online-retail" / "online_retail_2010-12_2011-12.csv.gz"

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FULL = RunOptions(full_refresh=True)  # each engine builds everything, not on top of the other's version


@pytest.fixture(scope="module")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarehouseEngine]:
    """One Spark session for the module (it takes about 10 s to start)."""
    settings = load_settings(home=tmp_path_factory.mktemp("spark-home"), warehouse_url="spark://local[2]")
    engine = open_warehouse_engine(settings)
    yield engine
    engine.close()


def _load(platform: Platform, mapping: str, files: list[Path]) -> None:
    importer = Importer(platform, load_mapping(mapping))
    for path in files:
        report = importer.import_file(path)
        assert report.error is None, report.error
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)


def _build_both(platform: Platform, spark: WarehouseEngine) -> tuple[PublishedVersion, PublishedVersion]:
    duckdb = open_warehouse_engine(platform.settings, "duckdb")
    try:
        # The blocking quality checks must hold on real data too (a failure raises here).
        on_duckdb = run_pipeline(
            platform.settings, platform.lake, duckdb, options=FULL, metadata=platform.metadata
        ).version
    finally:
        duckdb.close()
    on_spark = run_pipeline(platform.settings, platform.lake, spark, options=FULL).version
    assert (on_duckdb.engine, on_spark.engine) == ("duckdb", "spark")
    return on_duckdb, on_spark


def _assert_equal(left: PublishedVersion, right: PublishedVersion) -> None:
    assert set(left.tables) == set(right.tables) == {spec.name for spec in TABLES} | {"dim_date"}
    problems = {}
    for name in sorted(left.tables):
        diff = compare_tables(
            name, read_table(left.tables[name].files), read_table(right.tables[name].files), relative=1e-9
        )
        if diff.problems:
            problems[name] = diff.problems[:5]
    assert not problems, problems


def test_demo_store_builds_the_same_on_duckdb_and_spark(
    tmp_path: Path, spark_engine: WarehouseEngine
) -> None:
    platform = Platform(load_settings(home=tmp_path / "home", log_group_commit_ms=0.0))
    try:
        demo = tmp_path / "demo"
        write_files(generate(DemoConfig(events=4_000, days=45)), demo)
        _load(platform, "shopsight", sorted(demo.glob("*.ndjson")))
        on_duckdb, on_spark = _build_both(platform, spark_engine)
        assert on_duckdb.tables["fact_session"].rows > 100 and on_duckdb.tables["fact_order"].rows > 10
        _assert_equal(on_duckdb, on_spark)
    finally:
        platform.close()


# Builds the 541,909-line file's warehouse on both engines and compares every value: 275-300 s on this
# 2-core machine, against the suite's 300 s default.
@pytest.mark.timeout(900)
def test_online_retail_builds_the_same_on_duckdb_and_spark(
    tmp_path: Path, spark_engine: WarehouseEngine
) -> None:
    platform = Platform(load_settings(home=tmp_path / "home", log_group_commit_ms=0.0))
    try:
        _load(platform, "online-retail", [ONLINE_RETAIL])
        on_duckdb, on_spark = _build_both(platform, spark_engine)
        assert on_duckdb.tables["fact_order"].rows == 23_795
        assert on_duckdb.tables["fact_refund"].rows > 3_000  # the "C" invoices are credit notes
        _assert_equal(on_duckdb, on_spark)
    finally:
        platform.close()
        shutil.rmtree(tmp_path / "home", ignore_errors=True)
