"""``shopsight sources``: create and list event sources and their write keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shopsight.cli.common import console, platform_for

sources_app = typer.Typer(
    help="Manage event sources (each has a Segment-style write key).", no_args_is_help=True
)


@sources_app.command("add")
def add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Name of the new source.")]) -> None:
    """Create a source and print its write key (shown only this once)."""
    from shopsight.metadata.sources import create_source  # SQLAlchemy: not for --help

    with platform_for(ctx) as platform:
        write_key = create_source(platform.metadata, name)
    console.print(write_key, soft_wrap=True, highlight=False)


@sources_app.command("list")
def list_(ctx: typer.Context) -> None:
    """List sources with the visible prefix of their write keys."""
    from shopsight.metadata.sources import list_sources

    with platform_for(ctx) as platform:
        rows = list_sources(platform.metadata)
    table = Table("name", "write key prefix", "created at")
    for source in rows:
        table.add_row(source.name, source.write_key_prefix + "…", source.created_at.isoformat())
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``sources`` group."""
    app.add_typer(sources_app, name="sources")
