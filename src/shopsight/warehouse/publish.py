"""Pushing published tables to an outside database for BI tools (``shopsight publish --to URL``).

The core reads the current version's Parquet files in record batches and hands each table to a
:class:`TableSink`, the small port an engine adapter implements (PostgreSQL today). The sink replaces the
whole table atomically, so BI readers see the previous copy or the new one, never a half-loaded table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from shopsight.errors import ShopSightError
from shopsight.warehouse.catalog import TableDoc, build_catalog
from shopsight.warehouse.store import PublishedVersion

PUBLISHED_LAYERS = ("curated", "mart")  # staging keeps raw payloads: only pushed when named
BATCH_ROWS = 64_000

OnRows = Callable[[str, int], None]


class UnknownTable(ShopSightError):
    """A table that the published version does not hold."""


@dataclass(frozen=True)
class TableLoad:
    """One table to load: its Arrow schema, its rows as record batches, and its documentation."""

    name: str
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    description: str = ""
    column_descriptions: dict[str, str] = field(default_factory=dict)


class TableSink(Protocol):
    """Where tables are published: replaces one whole table per call, atomically."""

    def replace_table(self, load: TableLoad, on_rows: Callable[[int], None]) -> int:
        """Load ``load.batches`` into a new table and swap it in for ``load.name``; return the row count."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def tables_to_publish(version: PublishedVersion, names: list[str] | None = None) -> list[str]:
    """The named tables (checked against the version), or every curated table and mart it holds."""
    if names:
        unknown = [name for name in names if name not in version.tables]
        if unknown:
            known = ", ".join(sorted(version.tables))
            raise UnknownTable(
                f"not in warehouse version {version.version}: {', '.join(unknown)}; known: {known}"
            )
        return names
    layers = {table.name: table.layer for table in build_catalog().tables}
    return [name for name in version.tables if layers.get(name) in PUBLISHED_LAYERS]


def record_batches(files: list[str], batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The rows of a table's Parquet files, one bounded batch at a time."""
    for path in files:
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)


def table_load(version: PublishedVersion, name: str) -> TableLoad:
    """What the sink needs to load one published table (documented when the catalog knows it)."""
    files = version.tables[name].files
    doc: TableDoc | None = {t.name: t for t in build_catalog().tables}.get(name)
    columns = {column.name: column.description for column in doc.columns} if doc else {}
    return TableLoad(
        name, pq.read_schema(files[0]), record_batches(files), doc.description if doc else "", columns
    )


def publish_tables(
    *, version: PublishedVersion, sink: TableSink, tables: list[str], on_rows: OnRows | None = None
) -> dict[str, int]:
    """Replace each table in the sink with its copy from ``version``; rows loaded per table."""
    loaded = {}
    for name in tables:

        def progress(rows: int, table: str = name) -> None:
            if on_rows:
                on_rows(table, rows)

        loaded[name] = sink.replace_table(table_load(version, name), progress)
    return loaded
