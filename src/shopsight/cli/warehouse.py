"""``shopsight pipeline`` and ``shopsight kpi``: build the warehouse, read its KPIs."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopsight.cli.common import console, platform_for
from shopsight.cli.quality import checks_table
from shopsight.engines import open_warehouse_engine
from shopsight.warehouse.transforms.grains import PeriodGrain

pipeline_app = typer.Typer(help="Build the curated warehouse from the raw zone.", no_args_is_help=True)
kpi_app = typer.Typer(help="KPIs from the published warehouse.", no_args_is_help=True)


class EngineName(StrEnum):
    """Warehouse engines."""

    duckdb = "duckdb"
    spark = "spark"


class OutputFormat(StrEnum):
    """How ``kpi show`` prints."""

    table = "table"
    json = "json"
    csv = "csv"


@pipeline_app.command("run")
def run_command(
    ctx: typer.Context,
    engine: Annotated[
        EngineName | None,
        typer.Option(help="Engine to build with (default: the scheme of the warehouse URL, duckdb)."),
    ] = None,
    full_refresh: Annotated[
        bool,
        typer.Option("--full-refresh", help="Rebuild from the whole raw zone instead of new partitions."),
    ] = False,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Backfill: re-read the raw partitions from this day (YYYY-MM-DD)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Backfill: re-read the raw partitions up to this day (YYYY-MM-DD)."),
    ] = None,
) -> None:
    """Build the curated tables and KPI marts from new raw partitions, check them, publish them at once."""
    # ibis, pyarrow and SQLAlchemy: imported when the pipeline runs, not for --help
    from shopsight.warehouse.model import TABLES
    from shopsight.warehouse.pipeline import RunOptions, run_pipeline
    from shopsight.warehouse.quality import BlockingQualityFailure, QualityReport
    from shopsight.warehouse.quality_history import run_results

    options = RunOptions(full_refresh, _parse_day(start, "--from"), _parse_day(end, "--to"))
    with platform_for(ctx) as platform:
        started = time.perf_counter()
        chosen = open_warehouse_engine(platform.settings, engine.value if engine else None)
        try:
            with Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(), console=console, transient=True,
            ) as progress:  # fmt: skip
                task = progress.add_task(f"building on {chosen.name}", total=len(TABLES) + 1)

                def built(name: str, rows: int) -> None:
                    progress.update(task, advance=1, description=f"built {name} ({rows:,} rows)")

                result = run_pipeline(
                    platform.settings, platform.lake, chosen, built, options, metadata=platform.metadata
                )
        except BlockingQualityFailure as exc:
            console.print(checks_table(exc.report.blocking_failures, "blocking quality failures"))
            raise
        finally:
            chosen.close()
        checks = QualityReport(result.version.version, run_results(platform.metadata, result.version.version))
    if result.mode == "up-to-date":
        console.print(f"warehouse version {result.version.version} is up to date: no new raw partitions")
        return
    title = f"warehouse version {result.version.version} ({chosen.name}, {result.mode})"
    table = Table("table", "rows", title=title)
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    if checks.warnings:
        console.print(checks_table(checks.warnings, "quality warnings"))
    console.print(f"quality: {checks.summary()} (details: shopsight quality)")
    console.print(f"read {result.raw_files:,} raw files; published in {time.perf_counter() - started:.1f}s")


def _parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{flag} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


@kpi_app.command("show")
def show_command(
    ctx: typer.Context,
    metric: Annotated[
        str, typer.Option("--metric", "-m", help="Comma-separated metrics (see `shopsight kpi list`).")
    ] = "orders,revenue,aov",
    grain: Annotated[PeriodGrain, typer.Option(help="Period length.")] = PeriodGrain.day,
    start: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.table,
) -> None:
    """KPIs per day, week (from Monday) or month; JSON is a list of {period, <metric>...} objects."""
    from shopsight.warehouse.reader import kpis
    from shopsight.warehouse.store import WarehouseStore

    names = [name.strip() for name in metric.split(",") if name.strip()]
    first, last = _parse_day(start, "--from"), _parse_day(end, "--to")
    with platform_for(ctx) as platform:
        version = WarehouseStore(platform.settings.warehouse_dir).current()
        engine = open_warehouse_engine(platform.settings, "duckdb")
        try:
            result = kpis(engine, version, names, grain.value, first, last)
        finally:
            engine.close()
    rows = [{key: _plain(value) for key, value in row.items()} for row in result.to_pylist()]
    if output is OutputFormat.json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    elif output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["period", *names], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        table = Table(
            "period", *names, title=f"KPIs by {grain.value} ({platform.settings.reporting_currency})"
        )
        for row in rows:
            table.add_row(*(_cell(row[key]) for key in ["period", *names]))
        console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 1 else f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


@kpi_app.command("list")
def list_command() -> None:
    """Every metric with its definition."""
    from shopsight.warehouse.transforms.kpis import METRICS

    table = Table("metric", "unit", "definition")
    for m in METRICS:
        table.add_row(m.name, m.unit, m.description)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``pipeline`` and ``kpi`` groups."""
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(kpi_app, name="kpi")
