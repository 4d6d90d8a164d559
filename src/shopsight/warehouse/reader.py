"""Reading the published warehouse through an engine (BI queries, KPIs, the API)."""

from __future__ import annotations

from datetime import date

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from shopsight.errors import ShopSightError
from shopsight.warehouse.engine import WarehouseEngine
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
) -> pa.Table:
    """The named KPIs per period (``period`` = first day of the period) between ``start`` and ``end``."""
    unknown = [name for name in metrics if name not in METRICS_BY_NAME]
    if unknown:
        raise UnknownMetric(
            f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(sorted(METRICS_BY_NAME))}"
        )
    components = kpi_components(published_tables(engine, version), grain, start, end)
    return kpi_table(components, metrics).to_pyarrow()
