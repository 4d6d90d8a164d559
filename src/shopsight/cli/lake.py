"""``shopsight lake``: compact the event log into the raw zone, list and verify it."""

from __future__ import annotations

from collections import Counter

import typer
from rich.progress import Progress
from rich.table import Table

from shopsight.cli.common import console, fail, platform_for
from shopsight.engines import open_event_log

lake_app = typer.Typer(
    help="The raw zone: immutable partitioned Parquet with manifests.", no_args_is_help=True
)


@lake_app.command("compact")
def compact_command(ctx: typer.Context) -> None:
    """Publish every event-log record not yet in the lake (safe while the server runs)."""
    from shopsight.lake.compaction import compact  # pyarrow, SQLAlchemy: not for --help

    with platform_for(ctx) as platform:
        log = open_event_log(platform.settings, read_only=True)
        try:
            todo = log.end_offset()
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("compacting", total=todo)
                result = compact(
                    log=log,
                    lake=platform.lake,
                    metadata=platform.metadata,
                    progress=lambda n: progress.advance(task, n),
                )
        finally:
            log.close()
    table = Table("records read", "written", "duplicates dropped", "quarantined", "files", "batches")
    table.add_row(*(str(v) for v in (result.read, result.written, result.duplicates, result.quarantined,
                                     result.files, result.batches)))  # fmt: skip
    console.print(table)


@lake_app.command("ls")
def list_command(ctx: typer.Context) -> None:
    """Partitions (kind / name) with their published row counts."""
    from shopsight.lake.reader import published_files

    with platform_for(ctx) as platform:
        entries = published_files(platform.lake)
    rows: Counter[tuple[str, str]] = Counter()
    for entry in entries:
        rows[(entry.kind, entry.name)] += entry.rows
    table = Table("kind", "name", "rows")
    for (kind, name), count in sorted(rows.items()):
        table.add_row(kind, name, str(count))
    console.print(table)


@lake_app.command("verify")
def verify_command(ctx: typer.Context) -> None:
    """Re-check the checksum of every published file; exit 1 on any problem."""
    from shopsight.lake.reader import verify

    with platform_for(ctx) as platform:
        problems = verify(platform.lake)
    if problems:
        for problem in problems:
            console.print(f"[red]{problem}[/]")
        fail(f"{len(problems)} problem(s) in the lake", code=1)
    console.print("lake intact")


def register(app: typer.Typer) -> None:
    """Add the ``lake`` group."""
    app.add_typer(lake_app, name="lake")
