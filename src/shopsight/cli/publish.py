"""``shopsight publish``: push the published warehouse's curated tables and marts to PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopsight.cli.common import console, fail, settings_from
from shopsight.engines import open_table_sink
from shopsight.errors import ShopSightError
from shopsight.security.engine_links import check_engine_url

if TYPE_CHECKING:  # pyarrow and ibis load only when the command runs, not for --help
    from shopsight.warehouse.store import PublishedVersion


def publish_command(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="Target database URL, e.g. postgresql://user@host/db.")],
    schema: Annotated[
        str, typer.Option(help="Schema the tables land in (created when missing).")
    ] = "shopsight",
    tables: Annotated[
        str | None,
        typer.Option(help="Comma-separated tables (default: every curated table and mart of the version)."),
    ] = None,
) -> None:
    """Replace each table in the target with the current warehouse version's copy, one table at a time."""
    from shopsight.warehouse.publish import tables_to_publish
    from shopsight.warehouse.store import WarehouseStore

    names = [name.strip() for name in tables.split(",") if name.strip()] if tables else None
    settings = settings_from(ctx)
    try:
        check_engine_url("--to", to, require_tls=settings.require_engine_tls)
        version = WarehouseStore(settings.warehouse_dir).current()
        chosen = tables_to_publish(version, names)
        loaded = _publish(version, chosen, to, schema)
    except ShopSightError as error:
        fail(str(error))
    summary = Table("table", "rows", title=f"warehouse version {version.version} -> {schema}")
    for name, rows in loaded.items():
        summary.add_row(name, f"{rows:,}")
    console.print(summary)


def _publish(version: PublishedVersion, names: list[str], url: str, schema: str) -> dict[str, int]:
    from shopsight.warehouse.publish import publish_tables

    sink = open_table_sink(url, schema=schema)
    try:
        with Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,} rows"), TimeElapsedColumn(),
            console=console, transient=True,
        ) as progress:  # fmt: skip
            total = sum(version.tables[name].rows for name in names)
            task = progress.add_task("publishing", total=total)

            def loaded(table: str, rows: int) -> None:
                progress.update(task, advance=rows, description=f"loading {table}")

            return publish_tables(version=version, sink=sink, tables=names, on_rows=loaded)
    finally:
        sink.close()


def register(app: typer.Typer) -> None:
    """Add the ``publish`` command."""
    app.command("publish")(publish_command)
