"""Reading the published warehouse through an engine (BI queries, KPIs, the API)."""

from __future__ import annotations

from datetime import date

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from shopsight.errors import ShopSightError
from shopsight.warehouse.engine import WarehouseEngine
from shopsight.warehouse.slicing import KpiSlice
from shopsight.warehouse.store import PublishedVersion
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
