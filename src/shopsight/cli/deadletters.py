"""``shopsight deadletters``: inspect rejected events and rows."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shopsight.cli.common import console, platform_for

deadletters_app = typer.Typer(
    help="Inspect rejected events and rows (kept with their reasons).", no_args_is_help=True
)


@deadletters_app.command("ls")
def list_(
    ctx: typer.Context,
    origin: Annotated[str | None, typer.Option(help="Only 'collector' or 'import'.")] = None,
    limit: Annotated[int, typer.Option(help="How many, most recent first.")] = 50,
) -> None:
    """List the most recent dead letters."""
    with platform_for(ctx) as platform:
        letters = platform.dead_letters.list(origin=origin, limit=limit)
        total = platform.dead_letters.count(origin=origin)
    table = Table("id", "received at", "origin", "source", "where", "reason", title=f"{total} dead letters")
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.received_at.isoformat(timespec="seconds"),
            letter.origin,
            letter.source,
            letter.location or "",
            letter.reason,
        )
    console.print(table)


@deadletters_app.command("show")
def show(ctx: typer.Context, dead_letter_id: Annotated[int, typer.Argument(help="Id from `ls`.")]) -> None:
    """Print one dead letter's raw payload (card numbers stay tokenized)."""
    with platform_for(ctx) as platform:
        payload = platform.dead_letters.payload(dead_letter_id)
    console.print(payload.decode("utf-8", errors="replace"), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``deadletters`` group."""
    app.add_typer(deadletters_app, name="deadletters")
