"""DuckDB adapter of :class:`shopsight.warehouse.engine.WarehouseEngine`."""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.sql.datatypes import DuckDBType


@ibis.udf.scalar.builtin(name="json_extract_string")
def _json_extract_string(json: str, path: str) -> str:
    """DuckDB's JSONPath extraction as text."""


@ibis.udf.scalar.builtin(name="json_extract_string")
def _json_extract_strings(json: str, paths: dt.Array(dt.string)) -> dt.Array(dt.string):
    """DuckDB's JSONPath extraction of many paths at once: one parse per document."""


@ibis.udf.scalar.builtin(name="shopsight_json_elements")
def _json_elements(json: str) -> dt.Array(dt.string):
    """Macro defined on connect: the elements of a JSON array as JSON text."""


@ibis.udf.scalar.builtin(name="timezone")
def _timezone(zone: str, ts: dt.Timestamp(timezone="UTC")) -> dt.Timestamp():
    """DuckDB's timezone(zone, timestamptz): the local wall-clock time."""


class DuckDBWarehouse:
    """In-process DuckDB: reads the lake's Parquet, writes table versions as single Parquet files."""

    name = "duckdb"

    def __init__(self, threads: int | None = None, memory_limit: str | None = None) -> None:
        config: dict[str, str] = {}
        if threads:
            config["threads"] = str(threads)
        if memory_limit:
            config["memory_limit"] = memory_limit
        self.con = ibis.duckdb.connect(**config)
        self.con.raw_sql("SET TimeZone = 'UTC'")  # after connect: the setting needs ICU loaded first
        self.con.raw_sql("SET preserve_insertion_order = false")  # tables are sets: no order to keep
        self.con.raw_sql(
            "CREATE OR REPLACE MACRO shopsight_json_elements(j) AS "
            "CASE WHEN json_type(j) = 'ARRAY' THEN CAST(json_extract(j, '$[*]') AS VARCHAR[]) END"
        )

    def read_parquet(self, name: str, paths: list[str], schema: pa.Schema) -> ir.Table:
        if not paths:
            return self.from_arrow(name, schema.empty_table())
        self._drop(name)  # a name reused across runs may have been a table
        files = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
        columns = ", ".join(f'"{c}"' for c in schema.names)
        self.con.raw_sql(
            f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT {columns} '
            # Every raw file has RAW_SCHEMA, so the first file's schema binds the view (union_by_name would
            # read every footer of the lake's many small files at each bind).
            f"FROM read_parquet([{files}], hive_partitioning = false)"
        )
        return self.con.table(name)

    def from_arrow(self, name: str, table: pa.Table) -> ir.Table:
        self._drop(name)
        return self.con.create_table(name, table, temp=True, overwrite=True)

    def _drop(self, name: str) -> None:
        """Drop a temp view or table of that name, whichever it is."""
        kinds = self.con.raw_sql(
            "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND temporary "
            "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ? AND temporary",
            parameters=[name, name],
        ).fetchall()
        for (kind,) in kinds:
            self.con.raw_sql(f'DROP {kind} IF EXISTS "{name}"')

    def write_parquet(self, expr: ir.Table, folder: Path) -> None:
        folder.mkdir(parents=True)
        # Explicit casts to the expression's declared types: DuckDB would widen sums to HUGEINT (written as
        # DOUBLE) where Ibis promises int64, and every engine must write the same Parquet types.
        columns = ", ".join(
            f'CAST("{name}" AS {DuckDBType.to_string(dtype)}) AS "{name}"'
            for name, dtype in expr.schema().items()
        )
        target = str(folder / "part-0.parquet").replace("'", "''")
        self.con.raw_sql(
            f"COPY (SELECT {columns} FROM ({self.con.compile(expr)})) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )

    def json_text(self, json: ir.StringValue, path: str) -> ir.StringValue:
        return _json_extract_string(json, path)

    def json_columns(self, table: ir.Table, column: str, fields: dict[str, str]) -> ir.Table:
        paths = ibis.literal(list(fields.values()), type=dt.Array(dt.string))
        parsed = table.mutate(_json_fields=_json_extract_strings(table[column], paths))
        values = {name: parsed._json_fields[index] for index, name in enumerate(fields)}
        return parsed.mutate(**values).drop("_json_fields")

    def json_array(self, json: ir.StringValue) -> ir.ArrayValue:
        return _json_elements(json)

    def local_time(self, ts: ir.TimestampValue, timezone: str) -> ir.TimestampValue:
        return _timezone(timezone, ts).cast(dt.Timestamp())

    def close(self) -> None:
        self.con.disconnect()
