"""PySpark adapter of :class:`shopsight.warehouse.engine.WarehouseEngine`.

``spark://local[2]`` starts a local-mode session (Java 17); ``spark://host:7077`` joins a cluster.
"""

from __future__ import annotations

from pathlib import Path

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends.sql.datatypes import PySparkType

from shopsight.engines.spark.session import spark_session


@ibis.udf.scalar.builtin(name="get_json_object")
def _get_json_object(json: str, path: str) -> str:
    """Spark's JSONPath extraction as text."""


@ibis.udf.scalar.builtin(name="from_json")
def _from_json(json: str, schema: str) -> dt.Array(dt.string):
    """Spark's from_json with schema ``array<string>``: each element as JSON text."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def _from_utc_timestamp(ts: dt.Timestamp(timezone="UTC"), zone: str) -> dt.Timestamp():
    """Spark's from_utc_timestamp: the wall-clock time in ``zone``."""


class SparkWarehouse:
    """A Spark session behind Ibis. Tables are temp views, so reruns never collide with managed tables."""

    name = "spark"

    def __init__(self, master: str = "local[2]", scratch: Path | None = None) -> None:
        self.spark = spark_session(master, scratch)
        self.con = ibis.pyspark.connect(self.spark)

    def read_parquet(self, name: str, paths: list[str], schema: pa.Schema) -> ir.Table:
        if not paths:
            return self.from_arrow(name, schema.empty_table())
        frame = self.spark.read.schema(_spark_schema(schema)).parquet(*paths).select(*schema.names)
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def from_arrow(self, name: str, table: pa.Table) -> ir.Table:
        frame = self.spark.createDataFrame(table.to_pandas(), schema=_spark_schema(table.schema))
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def write_parquet(self, expr: ir.Table, folder: Path) -> None:
        # Explicit casts to the expression's declared types, so every engine writes the same Parquet types.
        frame = self.spark.sql(str(self.con.compile(expr))).selectExpr(
            *(
                f"CAST(`{name}` AS {PySparkType.to_string(dtype)}) AS `{name}`"
                for name, dtype in expr.schema().items()
            )
        )
        frame.write.option("compression", "zstd").parquet(str(folder))
        for extra in folder.iterdir():  # _SUCCESS and checksum files: not data
            if not extra.name.endswith(".parquet"):
                extra.unlink()

    def json_text(self, json: ir.StringValue, path: str) -> ir.StringValue:
        return _get_json_object(json, path)

    def json_columns(self, table: ir.Table, column: str, fields: dict[str, str]) -> ir.Table:
        return table.mutate(**{name: _get_json_object(table[column], path) for name, path in fields.items()})

    def json_array(self, json: ir.StringValue) -> ir.ArrayValue:
        return _from_json(json, "array<string>")

    def local_time(self, ts: ir.TimestampValue, timezone: str) -> ir.TimestampValue:
        return _from_utc_timestamp(ts, timezone).cast(dt.Timestamp())

    def close(self) -> None:
        self.spark.stop()


def _spark_schema(schema: pa.Schema) -> str:
    """A DDL schema string, so that empty tables keep their column types."""
    names = {
        pa.string(): "string",
        pa.large_string(): "string",
        pa.int32(): "int",
        pa.int64(): "bigint",
        pa.float64(): "double",
        pa.bool_(): "boolean",
        pa.date32(): "date",
    }
    parts = []
    for field in schema:
        if pa.types.is_timestamp(field.type):
            spark_type = "timestamp"
        elif pa.types.is_decimal(field.type):
            spark_type = f"decimal({field.type.precision},{field.type.scale})"
        else:
            spark_type = names[field.type]
        parts.append(f"`{field.name}` {spark_type}")
    return ", ".join(parts)
