"""``shopsight import``: files -> event log (-> lake), by a declarative YAML mapping."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from shopsight.cli.common import console, fail, platform_for
from shopsight.errors import ConfigError
from shopsight.importer.mapping import FileFormat, builtin_mapping_names, load_mapping

if TYPE_CHECKING:  # pyarrow and SQLAlchemy load only when files are imported, not for --help
    from shopsight.importer.run import Importer, ImportReport


def _list_mappings(value: bool) -> None:
    if not value:
        return
    table = Table("mapping", "records", "description")
    for name in builtin_mapping_names():
        mapping = load_mapping(name)
        kinds = ", ".join(record.kind for record in mapping.records)
        table.add_row(name, kinds, " ".join(mapping.description.split()))
    console.print(table)
    raise typer.Exit()


def register(app: typer.Typer) -> None:
    """Add the ``import`` command."""

    @app.command("import")
    def import_command(
        ctx: typer.Context,
        files: Annotated[
            list[Path], typer.Argument(help="Files to import (.gz allowed).", show_default=False)
        ],
        mapping: Annotated[
            str,
            typer.Option(
                "--mapping", "-m", help="Shipped mapping name (see --list-mappings) or a YAML file."
            ),
        ],
        fmt: Annotated[FileFormat | None, typer.Option("--format", help="Override the file format.")] = None,
        kind: Annotated[
            str | None,
            typer.Option(help="Record kind for the 'shopsight' mapping when the file name says none."),
        ] = None,
        lake: Annotated[
            bool, typer.Option("--compact/--no-compact", help="Publish to the lake after importing.")
        ] = True,
        as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
        list_mappings: Annotated[
            bool,
            typer.Option(
                "--list-mappings", callback=_list_mappings, is_eager=True, help="List shipped mappings."
            ),
        ] = False,
    ) -> None:
        """Import CSV / TSV / JSON / NDJSON / Parquet files as events or store entities.

        Bad rows go to the dead-letter store with file, line and reason (see `shopsight deadletters`);
        re-importing a file adds nothing.
        """
        from shopsight.importer.run import Importer
        from shopsight.lake.compaction import compact

        try:
            chosen = load_mapping(mapping)
        except ConfigError as exc:
            fail(str(exc))
        for path in files:
            if not path.is_file():
                fail(f"{path} does not exist or is not a file")
        reports: list[ImportReport] = []
        with platform_for(ctx) as platform:
            importer = Importer(platform, chosen)
            for path in files:
                reports.append(_import_one(importer, path, fmt, kind, quiet=as_json))
            if lake:
                compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
        _print(reports, as_json)
        if any(report.error for report in reports):
            raise typer.Exit(1)


def _import_one(
    importer: Importer, path: Path, fmt: FileFormat | None, kind: str | None, *, quiet: bool
) -> ImportReport:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=quiet) as progress:
        task = progress.add_task(f"importing {path.name}", total=path.stat().st_size)
        return importer.import_file(
            path, fmt=fmt, kind=kind, progress=lambda done: progress.update(task, completed=done)
        )


def _print(reports: list[ImportReport], as_json: bool) -> None:
    if as_json:
        console.print_json(orjson.dumps([report.as_dict() for report in reports]).decode())
        return
    for report in reports:
        table = Table(title=f"{report.file} ({report.mapping})", show_header=False)
        table.add_row("rows read", f"{report.rows:,}")
        for kind, count in sorted(report.records.items()):
            table.add_row(f"new {kind} records", f"{count:,}")
        table.add_row("already imported", f"{report.already_imported:,}")
        table.add_row("rows rejected (dead-letter store)", f"{report.rejected_rows:,}")
        for reason, count in report.rejected.most_common(8):
            table.add_row(f"  [red]{reason}[/]", f"{count:,}")
        for reason, count in report.skipped.most_common(8):
            table.add_row(f"  skipped: {reason}", f"{count:,}")
        if report.error:
            table.add_row("[bold red]file error[/]", report.error)
        console.print(table)
