"""``shopsight catalog``: every warehouse table and column, the lineage diagram and the KPI definitions."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.table import Table

from shopsight.cli.common import console, fail

if TYPE_CHECKING:  # ibis and the warehouse model load only when the command runs, not for --help
    from shopsight.warehouse.catalog import Catalog


class CatalogFormat(StrEnum):
    """How ``catalog`` prints."""

    table = "table"
    json = "json"
    mermaid = "mermaid"


def catalog_command(
    output: Annotated[
        CatalogFormat, typer.Option("--format", help="table, json (full export) or mermaid (lineage).")
    ] = CatalogFormat.table,
    table: Annotated[
        str | None, typer.Option("--table", help="Only this table and what is upstream / downstream of it.")
    ] = None,
) -> None:
    """Tables, columns (type, classification, owner), lineage raw -> curated -> marts, KPI definitions."""
    from shopsight.warehouse.catalog import build_catalog, catalog_json
    from shopsight.warehouse.lineage import mermaid

    catalog = build_catalog()
    if table is not None:
        if table not in {t.name for t in catalog.tables}:
            fail(f"unknown table {table!r}; known: {', '.join(t.name for t in catalog.tables)}")
        catalog = catalog.around(table)
    if output is CatalogFormat.json:
        typer.echo(orjson.dumps(catalog_json(catalog), option=orjson.OPT_INDENT_2).decode())
    elif output is CatalogFormat.mermaid:
        typer.echo(mermaid(catalog.lineage), nl=False)
    else:
        _print_tables(catalog, only=table)


def _print_tables(catalog: Catalog, only: str | None) -> None:
    from shopsight.warehouse.catalog import formula

    summary = Table("table", "layer", "owner", "key", "built from", "description", title="Warehouse tables")
    for t in catalog.tables:
        summary.add_row(t.name, t.layer, t.owner, ", ".join(t.key), ", ".join(t.inputs), t.description)
    console.print(summary)
    columns = Table("table", "column", "type", "classification", "description", title="Columns")
    for t in catalog.tables:
        if only is None or t.name == only:
            for c in t.columns:
                columns.add_row(t.name, c.name, c.type, c.classification.value, c.description)
            columns.add_section()
    console.print(columns)
    if only is None or only == "kpi_daily":
        metrics = Table("metric", "unit", "formula", "definition", title="KPI metrics")
        for m in catalog.metrics:
            metrics.add_row(m.name, m.unit, formula(m), m.description)
        console.print(metrics)


def register(app: typer.Typer) -> None:
    """Add the ``catalog`` command."""
    app.command("catalog")(catalog_command)
