"""Root of the ``shopsight`` CLI: global options and one sub-command module per capability."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopsight.cli import (
    audit,
    catalog,
    deadletters,
    demo,
    forecast,
    importing,
    inventory,
    keys,
    lake,
    plan,
    pricing,
    publish,
    quality,
    quickstart,
    recs,
    schemas,
    serve,
    sources,
    users,
    warehouse,
)
from shopsight.cli.common import fail
from shopsight.config import load_settings
from shopsight.errors import ShopSightError
from shopsight.logs import configure_logging

app = typer.Typer(
    name="shopsight",
    help="ShopSight: e-commerce events, lake, warehouse and intelligence on one self-hosted platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar="SHOPSIGHT_HOME", help="Folder for all embedded data (.shopsight)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level of the JSON logs on stderr.")] = "WARNING",
) -> None:
    """Global options shared by every command."""
    overrides = {"home": home} if home is not None else {}
    try:
        ctx.obj = load_settings(**overrides)
    except ShopSightError as error:  # e.g. an engine URL refused at start-up: one line, no traceback
        fail(str(error))
    configure_logging(log_level, syslog_address=ctx.obj.log_syslog_address)


serve.register(app)
sources.register(app)
importing.register(app)
lake.register(app)
demo.register(app)
schemas.register(app)
deadletters.register(app)
quickstart.register(app)
warehouse.register(app)
quality.register(app)
catalog.register(app)
publish.register(app)
recs.register(app)
users.register(app)
forecast.register(app)
keys.register(app)
audit.register(app)
pricing.register(app)
inventory.register(app)
plan.register(app)


def main() -> None:
    """Entry point for ``python -m shopsight``."""
    app()
