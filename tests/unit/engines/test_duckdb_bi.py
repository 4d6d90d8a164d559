"""BI views: the DuckDB file shows every published table of the current version, and only those."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopsight.config import load_settings
from shopsight.engines import refresh_warehouse_views
from shopsight.engines.duckdb.bi import BIViewsUnavailable, refresh_bi_views
from shopsight.warehouse.store import PublishedVersion, TableVersion

HOLD = "import duckdb, sys; c = duckdb.connect({path!r}); print('ok', flush=True); sys.stdin.read()"


def _version(root: Path, run: str, tables: dict[str, pa.Table]) -> PublishedVersion:
    built = {}
    for name, table in tables.items():
        folder = root / run / name
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet")
        built[name] = TableVersion(rows=table.num_rows, files=[str(folder / "part-0.parquet")])
    return PublishedVersion(version=run, engine="duckdb", built_at="2024-01-01T00:00:00Z", tables=built)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_views_follow_the_published_version(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    orders = pa.table({"order_id": ["o1", "o2"], "total": [10.5, 4.0]})
    first = _version(tmp_path, "v1", {"fact_order": orders, "fact_refund": pa.table({"amount": [1.0]})})
    assert refresh_bi_views(db, first) == ["fact_order", "fact_refund"]
    assert _query(db, "SELECT count(*), sum(total) FROM fact_order") == [(2, 14.5)]

    with duckdb.connect(str(db)) as con:  # a view someone made for a dashboard stays
        con.execute("CREATE VIEW big_orders AS SELECT * FROM fact_order WHERE total > 5")
    second = _version(tmp_path, "v2", {"fact_order": pa.table({"order_id": ["o3"], "total": [7.0]})})
    refresh_bi_views(db, second)
    assert _query(db, "SELECT order_id FROM fact_order") == [("o3",)]
    views = _query(db, "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1")
    assert views == [("big_orders",), ("fact_order",)]


def test_the_registry_refreshes_the_file_of_a_duckdb_warehouse_url(tmp_path: Path) -> None:
    version = _version(tmp_path, "v1", {"dim_date": pa.table({"year": [2024]})})
    refresh_warehouse_views(load_settings(home=tmp_path / "home"), version)
    assert _query(tmp_path / "home" / "warehouse.duckdb", "SELECT year FROM dim_date") == [(2024,)]
    spark = load_settings(home=tmp_path / "other", warehouse_url="spark://local[1]")
    refresh_warehouse_views(spark, version)
    assert not (tmp_path / "other" / "warehouse.duckdb").exists()


def test_a_file_held_by_another_process_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")
    db = tmp_path / "home" / "warehouse.duckdb"
    db.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(path=str(db))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ok\n"
        version = _version(tmp_path, "v1", {"dim_date": pa.table({"year": [2024]})})
        assert refresh_warehouse_views(settings, version) is False
        with pytest.raises(BIViewsUnavailable, match=r"cannot open .*warehouse\.duckdb for writing"):
            refresh_bi_views(db, version)
    finally:
        holder.communicate("")
    assert refresh_warehouse_views(settings, version) is True
