"""One pipeline run: raw zone -> staged tables -> checks -> atomic publish (write-audit-publish).

Incremental by default: the published version records the last lake batch it holds (its watermark), and
the next run reads only the raw files of later batches. Incremental tables (the staging layer) merge those
new records into their previous version; every other table is rebuilt from the staging layer, so an
incremental result equals a full refresh. ``start``/``end`` re-read the raw partitions of those days
(backfill) and replace what the staging layer held for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow.parquet as pq
from sqlalchemy import Engine

import shopsight
from shopsight.config import Settings
from shopsight.engines import refresh_warehouse_views
from shopsight.lake.layout import RAW_SCHEMA
from shopsight.lake.manifest import ManifestEntry, load_manifests
from shopsight.ports import ObjectStore
from shopsight.warehouse import seeds
from shopsight.warehouse.context import BuildContext
from shopsight.warehouse.engine import WarehouseEngine
from shopsight.warehouse.model import RAW_KINDS, TABLES, TableSpec
from shopsight.warehouse.quality import BlockingQualityFailure, audit
from shopsight.warehouse.runs import record_published, watermark
from shopsight.warehouse.store import PublishedVersion, WarehouseStore, parquet_files, parquet_rows

OnTable = Callable[[str, int], None]
DATE_COLUMNS = (
    ("fact_event", "event_date"),
    ("fact_order", "order_date"),
    ("fact_marketing_spend", "spend_date"),
)


@dataclass(frozen=True)
class RunOptions:
    """How much of the raw zone a run reads."""

    full_refresh: bool = False
    start: date | None = None  # backfill: re-read raw partitions of these days (inclusive)
    end: date | None = None

    @property
    def backfill(self) -> bool:
        """Whether a date range is to be re-read."""
        return self.start is not None or self.end is not None

    def covers(self, day: str) -> bool:
        """Whether a raw partition's day (ISO) is in the backfill range."""
        return (self.start is None or day >= self.start.isoformat()) and (
            self.end is None or day <= self.end.isoformat()
        )


@dataclass
class RunResult:
    """What a run built and published (``mode``: full, incremental or up-to-date)."""

    version: PublishedVersion
    mode: str
    rows: dict[str, int] = field(default_factory=dict)
    raw_files: int = 0


@dataclass(frozen=True)
class _Plan:
    """The raw files a run reads and the previous version it merges into (None: full refresh)."""

    entries: list[ManifestEntry]
    lake_batch: int
    previous: PublishedVersion | None


def fingerprint(settings: Settings) -> str:
    """What a version's content depends on besides the lake: a change forces a full refresh."""
    fx = settings.fx_rates_path.read_bytes() if settings.fx_rates_path else b"shipped"
    parts = [shopsight.__version__, settings.store_timezone, settings.reporting_currency, fx.hex()]
    parts += [f"{spec.name}:{','.join(spec.key)}:{spec.incremental}" for spec in TABLES]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _plan(
    lake: ObjectStore,
    previous: PublishedVersion | None,
    options: RunOptions,
    stamp: str,
    metadata: Engine | None,
) -> _Plan:
    manifests = load_manifests(lake)
    lake_batch = manifests[-1].batch if manifests else 0
    if previous is None or options.full_refresh or previous.fingerprint != stamp:
        return _Plan([e for m in manifests for e in m.files], lake_batch, None)
    done = watermark(metadata, previous) if metadata is not None else previous.lake_batch
    entries = [
        entry
        for manifest in manifests
        for entry in manifest.files
        if manifest.batch > done or (options.backfill and options.covers(entry.date))
    ]
    return _Plan(entries, lake_batch, previous)


def register_raw(ctx: BuildContext, lake: ObjectStore, entries: list[ManifestEntry]) -> None:
    """Register every raw kind as ``raw_<kind>`` over the given files (an empty table when none)."""
    for kind in RAW_KINDS:
        paths = [lake.uri(entry.key) for entry in entries if entry.kind == kind]
        ctx.tables[f"raw_{kind}"] = ctx.engine.read_parquet(f"raw_{kind}", paths, RAW_SCHEMA)


def _registered(ctx: BuildContext, name: str, files: list[str]) -> ir.Table:
    return ctx.engine.read_parquet(name, files, pq.read_schema(files[0]))


def _merged(ctx: BuildContext, spec: TableSpec, plan: _Plan, options: RunOptions) -> ir.Table:
    """An incremental table: its previous version (less re-read days) plus the new records not in it."""
    fresh = spec.build(ctx)
    if plan.previous is None or spec.name not in plan.previous.tables:
        return fresh
    kept = _registered(ctx, f"previous_{spec.name}", plan.previous.tables[spec.name].files)
    if options.backfill:
        day = kept.ts.date()  # raw partitions are UTC days of the record time
        inside = ibis.literal(True)
        if options.start is not None:
            inside &= day >= options.start
        if options.end is not None:
            inside &= day <= options.end
        kept = kept.filter(~inside)
    key = list(spec.key)
    new = fresh.anti_join(kept, key)
    return kept.select(*fresh.columns).union(new.select(*fresh.columns))


def _materialize(ctx: BuildContext, spec: TableSpec, staging: Path, plan: _Plan, options: RunOptions) -> int:
    """Build one table into staging and re-register the files, so later tables read it, not its plan."""
    folder = staging / spec.name
    expr = _merged(ctx, spec, plan, options) if spec.incremental else spec.build(ctx)
    ctx.engine.write_parquet(expr, folder)
    files = parquet_files(folder)
    ctx.tables[spec.name] = _registered(ctx, spec.name, files)
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
    settings: Settings,
    lake: ObjectStore,
    engine: WarehouseEngine,
    on_table: OnTable | None = None,
    options: RunOptions | None = None,
    metadata: Engine | None = None,
) -> RunResult:
    """Build every curated table on ``engine`` from the raw zone (new partitions only) and publish them.

    With ``metadata``, the quality checks run on the staged tables first and a blocking failure raises
    :class:`BlockingQualityFailure` instead of publishing (the previous version stays current).
    """
    options = options or RunOptions()
    store = WarehouseStore(settings.warehouse_dir)
    stamp = fingerprint(settings)
    plan = _plan(lake, store.latest(), options, stamp, metadata)
    if plan.previous is not None and not plan.entries:
        unchanged = {name: table.rows for name, table in plan.previous.tables.items()}
        return RunResult(version=plan.previous, mode="up-to-date", rows=unchanged)
    ctx = BuildContext(
        engine=engine, timezone=settings.store_timezone, reporting_currency=settings.reporting_currency
    )
    register_raw(ctx, lake, plan.entries)
    ctx.tables["fx_rate"] = engine.from_arrow(
        "fx_rate", seeds.fx_table(settings.reporting_currency, settings.fx_rates_path)
    )
    run_id, staging = store.new_run()
    rows: dict[str, int] = {}
    try:
        for spec in TABLES:
            rows[spec.name] = _materialize(ctx, spec, staging, plan, options)
            if on_table:
                on_table(spec.name, rows[spec.name])
        first, last = _calendar_range(ctx)
        calendar = seeds.calendar(first, last)
        pq.write_table(calendar, _mkdir(staging / "dim_date") / "part-0.parquet", compression="zstd")
        rows["dim_date"] = calendar.num_rows
        if on_table:
            on_table("dim_date", calendar.num_rows)
        if metadata is not None:
            _audit(ctx, staging, run_id, metadata, rows)
    except BaseException:
        store.discard(run_id)
        raise
    version = store.publish(run_id, engine.name, [*rows], lake_batch=plan.lake_batch, fingerprint=stamp)
    # BI tools read the DuckDB file's views; they follow the version just published.
    refresh_warehouse_views(settings, version)
    mode = "full" if plan.previous is None else "incremental"
    if metadata is not None:
        record_published(metadata, version, mode, len(plan.entries))
    return RunResult(version=version, mode=mode, rows=rows, raw_files=len(plan.entries))


def _audit(ctx: BuildContext, staging: Path, run_id: str, metadata: Engine, rows: dict[str, int]) -> None:
    """Check the staged tables (results go to the metadata store); stop on a blocking failure."""
    ctx.tables["dim_date"] = _registered(ctx, "dim_date", parquet_files(staging / "dim_date"))
    report = audit(tables=ctx.tables, run_id=run_id, metadata=metadata, row_counts=rows)
    if report.blocking_failures:
        raise BlockingQualityFailure(report)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path
