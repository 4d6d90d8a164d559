"""Reading the published warehouse through an engine (BI queries, KPIs, the API)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from shopsight.errors import ShopSightError
from shopsight.warehouse.engine import WarehouseEngine
from shopsight.warehouse.slicing import KpiSlice
from shopsight.warehouse.store import PublishedVersion, WarehouseStore
from shopsight.warehouse.transforms.kpis import METRICS_BY_NAME, Grain, kpi_components, kpi_table


class UnknownMetric(ShopSightError):
    """A KPI name that is not in the catalog."""


def published_tables(engine: WarehouseEngine, version: PublishedVersion) -> dict[str, ir.Table]:
    """Every table of one published version, registered on ``engine``."""
    tables = {}
    for name, table in version.tables.items():
        tables[name] = engine.read_parquet(name, table.files, pq.read_schema(table.files[0]))
    return tables


def kpis(
    engine: WarehouseEngine,
    version: PublishedVersion,
    metrics: list[str],
    grain: Grain,
    start: date | None = None,
    end: date | None = None,
    where: KpiSlice | None = None,
    tables: dict[str, ir.Table] | None = None,
) -> pa.Table:
    """The named KPIs per period (``period`` = first day of the period) between ``start`` and ``end``.

    ``where`` restricts them to one slice (see :mod:`shopsight.warehouse.slicing`); ``tables`` are the
    version's tables already registered on ``engine`` (a long-lived reader passes them to save the work).
    """
    unknown = [name for name in metrics if name not in METRICS_BY_NAME]
    if unknown:
        raise UnknownMetric(
            f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(sorted(METRICS_BY_NAME))}"
        )
    if where is not None:
        where.check(metrics)
    registered = tables if tables is not None else published_tables(engine, version)
    components = kpi_components(registered, grain, start, end, where)
    return kpi_table(components, metrics).to_pyarrow()


class UnknownTable(ShopSightError):
    """A table that is not in the published version (or not open to this route)."""


class BadQuery(ShopSightError):
    """A sort, filter or page the table cannot answer."""


@dataclass(frozen=True)
class Page:
    """One page of a table: its rows and how many rows match in all."""

    rows: pa.Table
    total: int


@dataclass(frozen=True)
class TableQuery:
    """Equality filters, a date range on the table's date column, a sort and a page."""

    filters: dict[str, str] = field(default_factory=dict)
    start: date | None = None
    end: date | None = None
    sort: tuple[str, ...] = ()  # column names, "-" first for descending
    limit: int | None = None
    offset: int = 0


def date_column(table: ir.Table) -> str | None:
    """The column a date range applies to: ``period``, else the first date column."""
    schema = table.schema()
    if "period" in schema and schema["period"].is_date():
        return "period"
    return next((name for name, kind in schema.items() if kind.is_date()), None)


def query_table(table: ir.Table, query: TableQuery) -> Page:
    """Filter, sort and page ``table`` on its engine."""
    for column, value in query.filters.items():
        _require_column(table, column)
        table = table.filter(table[column].cast("string") == value)
    dated = date_column(table)
    if (query.start or query.end) and dated is None:
        raise BadQuery("this table has no date column to filter by from / to")
    if query.start is not None:
        table = table.filter(table[str(dated)] >= query.start)
    if query.end is not None:
        table = table.filter(table[str(dated)] <= query.end)
    total = int(table.count().to_pyarrow().as_py())
    keys = [_sort_key(table, spec) for spec in query.sort] or [table[c] for c in table.columns]
    rows = table.order_by(keys).limit(query.limit, offset=query.offset).to_pyarrow()
    return Page(rows=rows, total=total)


def _require_column(table: ir.Table, column: str) -> None:
    if column not in table.columns:
        raise BadQuery(f"unknown column {column!r}; columns: {', '.join(table.columns)}")


def _sort_key(table: ir.Table, spec: str) -> ir.Value:
    column = spec.removeprefix("-")
    _require_column(table, column)
    return ibis.desc(table[column]) if spec.startswith("-") else table[column]


class WarehouseReader:
    """Long-lived read access (the API): one engine, the published version's tables registered once.

    The engine is opened on first use; each call checks ``CURRENT.json`` and re-registers the tables when
    a newer version was published. Queries run one at a time: an embedded engine connection is not meant
    for concurrent use from several threads.
    """

    def __init__(self, store: WarehouseStore, open_engine: Callable[[], WarehouseEngine]) -> None:
        self._store = store
        self._open_engine = open_engine
        self._engine: WarehouseEngine | None = None
        self._version: PublishedVersion | None = None
        self._tables: dict[str, ir.Table] = {}
        self._lock = threading.Lock()

    @contextmanager
    def current(self) -> Iterator[tuple[PublishedVersion, dict[str, ir.Table]]]:
        """The published version and its tables, held for the duration of the block."""
        with self._lock:
            latest = self._store.current()
            if self._version is None or latest.version != self._version.version:
                if self._engine is None:
                    self._engine = self._open_engine()
                self._tables = published_tables(self._engine, latest)
                self._version = latest
            yield latest, self._tables

    def kpis(
        self, metrics: list[str], grain: Grain, start: date | None, end: date | None, where: KpiSlice
    ) -> tuple[PublishedVersion, pa.Table]:
        """:func:`kpis` on the current version."""
        with self.current() as (version, tables):
            assert self._engine is not None
            return version, kpis(self._engine, version, metrics, grain, start, end, where, tables)

    def page(self, name: str, query: TableQuery) -> tuple[PublishedVersion, Page]:
        """One page of the published table ``name``."""
        with self.current() as (version, tables):
            if name not in tables:
                raise UnknownTable(f"unknown table {name!r}")
            return version, query_table(tables[name], query)

    def close(self) -> None:
        """Close the engine."""
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
                self._version = None
