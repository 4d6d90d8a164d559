"""PostgreSQL adapter of :class:`shopsight.warehouse.publish.TableSink`: COPY into a new table, then swap.

Each table is loaded into ``<schema>._shopsight_load_<name>`` with ``COPY ... FROM STDIN (FORMAT csv)``
(Arrow writes the CSV in C++), then the old table is dropped and the new one renamed, all in one
transaction: a BI query sees the old table or the new one, and a failed load leaves the old one in place.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from shopsight.engines.postgres.errors import PostgresRefused, PostgresUnavailable, UnsupportedColumnType
from shopsight.security.engine_links import describe
from shopsight.warehouse.publish import TableLoad

Connect = Callable[[], psycopg.Connection]
LOAD_PREFIX = "_shopsight_load_"
_SCHEMA_EXISTS = "SELECT 1 FROM pg_namespace WHERE nspname = %s"
_SIMPLE_TYPES: tuple[tuple[Callable[[pa.DataType], bool], str], ...] = (
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "text"),
    (pa.types.is_boolean, "boolean"),
    (lambda t: pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t), "smallint"),
    (lambda t: pa.types.is_int32(t) or pa.types.is_uint16(t), "integer"),
    (lambda t: pa.types.is_int64(t) or pa.types.is_uint32(t), "bigint"),
    (pa.types.is_uint64, "numeric(20, 0)"),
    (lambda t: pa.types.is_float16(t) or pa.types.is_float32(t), "real"),
    (pa.types.is_float64, "double precision"),
    (pa.types.is_date, "date"),
    (pa.types.is_time, "time"),
)


def postgres_type(arrow: pa.DataType) -> str:
    """The PostgreSQL column type that holds an Arrow type without loss."""
    if pa.types.is_timestamp(arrow):
        return "timestamptz" if arrow.tz else "timestamp"
    if pa.types.is_decimal(arrow):
        return f"numeric({arrow.precision}, {arrow.scale})"
    for matches, name in _SIMPLE_TYPES:
        if matches(arrow):
            return name
    raise UnsupportedColumnType(f"no PostgreSQL type for Arrow type {arrow}")


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return describe(urlsplit(url))


def connect_url(url: str) -> Connect:
    """A connection factory for a ``postgresql://`` URL."""

    def connect() -> psycopg.Connection:
        try:
            return psycopg.connect(url)
        except psycopg.OperationalError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise PostgresUnavailable(f"cannot reach PostgreSQL at {safe_url(url)}: {first}") from error

    return connect


def _csv(batch: pa.RecordBatch) -> bytes:
    """A batch as headerless CSV: NULL unquoted-empty, strings quoted (so '' stays an empty string)."""
    buffer = io.BytesIO()
    pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
    return buffer.getvalue()


class PostgresTableSink:
    """Publishes tables into one PostgreSQL schema (created when missing)."""

    def __init__(self, connect: Connect, schema: str = "shopsight") -> None:
        self.schema = schema
        self._con = connect()

    def _name(self, table: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(table))

    def replace_table(self, load: TableLoad, on_rows: Callable[[int], None]) -> int:
        """Load into a new table and swap it in for ``load.name`` in one transaction."""
        try:
            with self._con.transaction(), self._con.cursor() as cursor:
                self._create(cursor, LOAD_PREFIX + load.name, load.schema)
                rows = self._copy(cursor, LOAD_PREFIX + load.name, load, on_rows)
                self._swap(cursor, load.name)
                self._comment(cursor, load)
        except psycopg.errors.Error as error:
            raise PostgresRefused(f"publishing {load.name}: {str(error).strip().splitlines()[0]}") from error
        return rows

    def _create(self, cursor: psycopg.Cursor[tuple[object, ...]], table: str, schema: pa.Schema) -> None:
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(postgres_type(f.type))) for f in schema
        )
        # CREATE SCHEMA needs CREATE on the database even when the schema exists: a least-privilege role
        # that may only create tables in its schema (docs/security/postgres-roles.sql) skips it.
        if cursor.execute(_SCHEMA_EXISTS, (self.schema,)).fetchone() is None:
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._name(table)))
        cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(self._name(table), columns))

    def _copy(
        self,
        cursor: psycopg.Cursor[tuple[object, ...]],
        table: str,
        load: TableLoad,
        on_rows: Callable[[int], None],
    ) -> int:
        names = sql.SQL(", ").join(sql.Identifier(name) for name in load.schema.names)
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(self._name(table), names)
        rows = 0
        with cursor.copy(statement) as copy:
            for batch in load.batches:
                copy.write(_csv(batch))
                rows += batch.num_rows
                on_rows(batch.num_rows)
        return rows

    def _swap(self, cursor: psycopg.Cursor[tuple[object, ...]], table: str) -> None:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._name(table)))
        cursor.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                self._name(LOAD_PREFIX + table), sql.Identifier(table)
            )
        )

    def _comment(self, cursor: psycopg.Cursor[tuple[object, ...]], load: TableLoad) -> None:
        """Catalog descriptions as table and column comments (Metabase and Superset show them)."""
        target = self._name(load.name)
        cursor.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(target, sql.Literal(load.description)))
        for column, text in load.column_descriptions.items():
            if column in load.schema.names:
                cursor.execute(
                    sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                        target, sql.Identifier(column), sql.Literal(text)
                    )
                )

    def close(self) -> None:
        """Close the connection."""
        self._con.close()
