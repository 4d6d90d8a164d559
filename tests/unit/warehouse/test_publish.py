"""Publishing picks the curated tables and marts, streams them in batches and reports progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopsight.warehouse.publish import TableLoad, UnknownTable, publish_tables, tables_to_publish
from shopsight.warehouse.store import PublishedVersion, TableVersion


class RecordingSink:
    """A TableSink that keeps what it was given."""

    def __init__(self) -> None:
        self.tables: dict[str, pa.Table] = {}
        self.descriptions: dict[str, str] = {}

    def replace_table(self, load: TableLoad, on_rows: Callable[[int], None]) -> int:
        batches = list(load.batches)
        for batch in batches:
            on_rows(batch.num_rows)
        self.tables[load.name] = pa.Table.from_batches(batches, load.schema)
        self.descriptions[load.name] = load.column_descriptions.get("order_id", "")
        return self.tables[load.name].num_rows

    def close(self) -> None:
        """Nothing to release."""


def _version(tmp_path: Path) -> PublishedVersion:
    tables = {}
    for name in ("stg_order", "fact_order", "kpi_daily"):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({"order_id": [f"{name}-{i}" for i in range(5)]}), path)
        tables[name] = TableVersion(rows=5, files=[str(path)])
    return PublishedVersion(version="v1", engine="duckdb", built_at="2024-01-01T00:00:00Z", tables=tables)


def test_default_is_curated_tables_and_marts_and_named_tables_are_checked(tmp_path: Path) -> None:
    version = _version(tmp_path)
    assert tables_to_publish(version) == ["fact_order", "kpi_daily"]
    assert tables_to_publish(version, ["stg_order"]) == ["stg_order"]
    with pytest.raises(UnknownTable, match="not in warehouse version v1: nope"):
        tables_to_publish(version, ["nope"])


def test_tables_reach_the_sink_whole_with_their_documentation(tmp_path: Path) -> None:
    version = _version(tmp_path)
    sink, progress = RecordingSink(), []
    loaded = publish_tables(
        version=version, sink=sink, tables=["fact_order"], on_rows=lambda t, n: progress.append((t, n))
    )
    assert loaded == {"fact_order": 5} and progress == [("fact_order", 5)]
    assert sink.tables["fact_order"].column("order_id").to_pylist()[0] == "fact_order-0"
    assert sink.descriptions["fact_order"] == "Order id."
