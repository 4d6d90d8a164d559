"""One pipeline run: raw zone -> staged tables -> checks -> atomic publish (write-audit-publish)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import ibis
import pyarrow.parquet as pq

from shopsight.config import Settings
from shopsight.lake.layout import RAW_SCHEMA
from shopsight.lake.reader import published_files
from shopsight.ports import ObjectStore
from shopsight.warehouse import seeds
from shopsight.warehouse.context import BuildContext
from shopsight.warehouse.engine import WarehouseEngine
from shopsight.warehouse.model import RAW_KINDS, TABLES, TableSpec
from shopsight.warehouse.store import PublishedVersion, WarehouseStore, parquet_files, parquet_rows

OnTable = Callable[[str, int], None]
DATE_COLUMNS = (
    ("fact_event", "event_date"),
    ("fact_order", "order_date"),
    ("fact_marketing_spend", "spend_date"),
)


@dataclass
class RunResult:
    """What a run built and published."""

    version: PublishedVersion
    rows: dict[str, int] = field(default_factory=dict)
    raw_files: int = 0


def register_raw(ctx: BuildContext, lake: ObjectStore) -> int:
    """Register every raw kind as ``raw_<kind>`` from the lake's published files; returns the file count."""
    entries = published_files(lake)
    for kind in RAW_KINDS:
        paths = [lake.uri(entry.key) for entry in entries if entry.kind == kind]
        ctx.tables[f"raw_{kind}"] = ctx.engine.read_parquet(f"raw_{kind}", paths, RAW_SCHEMA)
    return len(entries)


def _materialize(ctx: BuildContext, spec: TableSpec, staging: Path) -> int:
    """Build one table into staging and re-register the files, so later tables read it, not its plan."""
    folder = staging / spec.name
    ctx.engine.write_parquet(spec.build(ctx), folder)
    files = parquet_files(folder)
    ctx.tables[spec.name] = ctx.engine.read_parquet(spec.name, files, pq.read_schema(files[0]))
    return parquet_rows(files)


def _calendar_range(ctx: BuildContext) -> tuple[date, date]:
    """First and last day any fact speaks of (today when the warehouse is empty)."""
    bounds = []
    for table, column in DATE_COLUMNS:
        t = ctx.tables[table]
        bounds.append(t.aggregate(first=t[column].min(), last=t[column].max()))
    row = ibis.union(*bounds).aggregate(first=ibis._.first.min(), last=ibis._.last.max()).to_pyarrow()
    first, last = row["first"][0].as_py(), row["last"][0].as_py()
    today = date.today()
    return (first or today), (last or today)


def run_pipeline(
    settings: Settings, lake: ObjectStore, engine: WarehouseEngine, on_table: OnTable | None = None
) -> RunResult:
    """Build every curated table from the raw zone on ``engine`` and publish them together."""
    ctx = BuildContext(
        engine=engine, timezone=settings.store_timezone, reporting_currency=settings.reporting_currency
    )
    raw_files = register_raw(ctx, lake)
    ctx.tables["fx_rate"] = engine.from_arrow(
        "fx_rate", seeds.fx_table(settings.reporting_currency, settings.fx_rates_path)
    )
    store = WarehouseStore(settings.warehouse_dir)
    run_id, staging = store.new_run()
    rows: dict[str, int] = {}
    try:
        for spec in TABLES:
            rows[spec.name] = _materialize(ctx, spec, staging)
            if on_table:
                on_table(spec.name, rows[spec.name])
        first, last = _calendar_range(ctx)
        calendar = seeds.calendar(first, last)
        pq.write_table(calendar, _mkdir(staging / "dim_date") / "part-0.parquet", compression="zstd")
        rows["dim_date"] = calendar.num_rows
        if on_table:
            on_table("dim_date", calendar.num_rows)
    except BaseException:
        store.discard(run_id)
        raise
    version = store.publish(run_id, engine.name, [*rows])
    return RunResult(version=version, rows=rows, raw_files=raw_files)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path
