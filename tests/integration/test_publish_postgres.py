"""``shopsight publish --to postgresql://...`` against the machine's PostgreSQL (a fresh database per run).

Every published table arrives with the Parquet's row count, column types and numeric sums; publishing again
replaces the tables in place and leaves no load tables behind.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from psycopg import sql
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.demo.generator import DemoConfig, generate
from shopsight.demo.writers import write_files
from shopsight.engines import open_table_sink, open_warehouse_engine
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.platform import Platform
from shopsight.warehouse.compare import read_table
from shopsight.warehouse.pipeline import run_pipeline
from shopsight.warehouse.publish import publish_tables, tables_to_publish
from shopsight.warehouse.store import PublishedVersion

pytestmark = pytest.mark.integration
ADMIN_URL = os.environ.get("SHOPSIGHT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def database() -> Iterator[str]:
    """A database of its own for this test, dropped afterwards."""
    name = f"shopsight_test_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def version(platform: Platform, tmp_path: Path) -> PublishedVersion:
    """A warehouse built from a small demo store."""
    demo = tmp_path / "demo"
    write_files(generate(DemoConfig(events=1_500, days=15, seed=5)), demo)
    importer = Importer(platform, load_mapping("shopsight"))
    for path in sorted(demo.glob("*.ndjson")):
        assert importer.import_file(path).error is None
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        return run_pipeline(platform.settings, platform.lake, engine).version
    finally:
        engine.close()


def _numeric(table: pa.Table) -> list[str]:
    return [f.name for f in table.schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]


def _assert_same(con: psycopg.Connection, schema: str, name: str, expected: pa.Table) -> None:
    target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))
    count = con.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()
    assert count == (expected.num_rows,), name
    for column in _numeric(expected):
        query = sql.SQL("SELECT sum({})::float8 FROM {}").format(sql.Identifier(column), target)
        got = con.execute(query).fetchone()
        want = pc.sum(expected[column]).as_py()
        assert got is not None
        if want is None:
            assert got[0] is None, (name, column)
        else:
            assert math.isclose(got[0], want, rel_tol=1e-9, abs_tol=1e-9), (name, column, got[0], want)


def test_cli_publishes_curated_tables_and_marts_with_equal_counts_and_sums(
    platform: Platform, version: PublishedVersion, database: str
) -> None:
    result = CliRunner().invoke(app, ["--home", str(platform.settings.home), "publish", "--to", database])
    assert result.exit_code == 0, result.output
    published = tables_to_publish(version)
    assert "kpi_daily" in published and "fact_order" in published and "dim_date" in published
    assert not any(name.startswith("stg_") for name in published)
    with psycopg.connect(database) as con:
        for name in published:
            _assert_same(con, "shopsight", name, read_table(version.tables[name].files))
        rows = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'shopsight' AND table_name = 'fact_order'"
        ).fetchall()
        comment = con.execute("SELECT obj_description('shopsight.fact_order'::regclass)").fetchone()
    types = dict(rows)
    assert types["placed_at"] == "timestamp with time zone" and types["order_date"] == "date"
    assert types["total"] == "double precision" and types["units"] == "bigint"
    assert types["is_sale"] == "boolean" and types["order_id"] == "text"
    assert comment == ("Orders (latest state) with reporting amounts.",)


def test_publishing_again_replaces_each_table_and_leaves_no_load_table(
    version: PublishedVersion, database: str
) -> None:
    names = ["fact_payment", "stg_order"]
    for _ in range(2):
        sink = open_table_sink(database, schema="bi")
        try:
            loaded = publish_tables(version=version, sink=sink, tables=names)
        finally:
            sink.close()
        assert loaded == {name: version.tables[name].rows for name in names}
    with psycopg.connect(database) as con:
        for name in names:
            _assert_same(con, "bi", name, read_table(version.tables[name].files))
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bi' ORDER BY 1"
        ).fetchall()
    assert tables == [("fact_payment",), ("stg_order",)]
