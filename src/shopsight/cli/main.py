"""Root of the ``shopsight`` CLI: global options and one sub-command module per capability.

The sub-command modules are imported lazily (see :class:`LazyCommandGroup`): importing all of
them pulled pandas, ibis, the ML stack... and cost seconds on every ``shopsight`` call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import click
import typer
import typer.main
from typer.core import MarkupMode, TyperGroup

from shopsight.cli.common import fail
from shopsight.config import load_settings
from shopsight.errors import ShopSightError
from shopsight.logs import configure_logging


class LazyCommand(NamedTuple):
    """Where a top-level command lives and the short help ``shopsight --help`` lists for it."""

    module: str
    help: str


# Name -> module under ``shopsight.cli`` whose ``register(app)`` adds it, in ``--help`` order
# (typer lists single commands before groups). tests/unit/cli/test_lazy_commands.py keeps it true.
COMMANDS: dict[str, LazyCommand] = {
    "serve": LazyCommand(
        "serve", "Run the HTTP server: collector under /v1, API under /api/v1 (docs at /docs), GET /health."
    ),
    "import": LazyCommand(
        "importing", "Import CSV / TSV / JSON / NDJSON / Parquet files as events or store entities."
    ),
    "quickstart": LazyCommand(
        "quickstart",
        "Generate the demo store, send it through the collector, compact the lake, keep serving.",
    ),
    "quality": LazyCommand(
        "quality", "Check results of a warehouse run; exit 1 when that run failed a blocking check."
    ),
    "catalog": LazyCommand(
        "catalog",
        "Tables, columns (type, classification, owner), lineage raw -> curated -> marts, KPI definitions.",
    ),
    "publish": LazyCommand(
        "publish",
        "Replace each table in the target with the current warehouse version's copy, one table at a time.",
    ),
    "sources": LazyCommand("sources", "Manage event sources (each has a Segment-style write key)."),
    "lake": LazyCommand("lake", "The raw zone: immutable partitioned Parquet with manifests."),
    "demo": LazyCommand("demo", "Generate a realistic demo store (events, entities, labelled fraud)."),
    "schemas": LazyCommand("schemas", "JSON Schemas of every event and entity, with field classifications."),
    "deadletters": LazyCommand("deadletters", "Inspect rejected events and rows (kept with their reasons)."),
    "pipeline": LazyCommand("warehouse", "Build the curated warehouse from the raw zone."),
    "kpi": LazyCommand("warehouse", "KPIs from the published warehouse."),
    "recs": LazyCommand(
        "recs", "Recommendations: evaluate offline, train, and manage the served model versions."
    ),
    "users": LazyCommand("users", "Manage users, their roles and their MFA."),
    "forecast": LazyCommand("forecast", "Demand forecasting: backtest the models."),
    "keys": LazyCommand("keys", "Key management: KEK rotation and status."),
    "audit": LazyCommand(
        "audit", "The tamper-evident audit ledger: verify it, read it, export proofs and signed tree heads."
    ),
    "pricing": LazyCommand(
        "pricing",
        "Dynamic pricing: elasticities, margin-maximizing prices under guardrails, markdowns, flash sales.",
    ),
    "inventory": LazyCommand(
        "inventory",
        "Inventory optimization: stock policies from forecast distributions, simulated on real demand.",
    ),
    "plan": LazyCommand(
        "plan", "Planning: demand forecasts with intervals, stock policies, replenishment, price suggestions."
    ),
}


def load_command(name: str, *, rich_markup_mode: MarkupMode, suggest_commands: bool) -> click.Command | None:
    """Import the module of ``name`` and build its click command exactly as ``register(app)`` defines it.

    ``register`` may add a group (``add_typer``) or a single command (``app.command``), or several
    (``warehouse``): it runs on a scratch app, and the command named ``name`` is taken from it.
    """
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    module = importlib.import_module(f"shopsight.cli.{entry.module}")
    register: Callable[[typer.Typer], None] = module.register
    scratch = typer.Typer(rich_markup_mode=rich_markup_mode, suggest_commands=suggest_commands)
    register(scratch)
    return typer.main.get_group(scratch).commands.get(name)


class LazyCommandGroup(TyperGroup):
    """Root group that imports a command's module only when that command is used.

    ``self.commands`` holds a help-only placeholder per :data:`COMMANDS` entry, so listing and
    "did you mean" suggestions (which click and typer take from it) need no import;
    :meth:`get_command` returns the real command instead, except while the root help is formatted.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in COMMANDS.items():
            self.add_command(click.Command(name, help=entry.help))
        self._listing = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if self._listing or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        return load_command(
            cmd_name, rich_markup_mode=self.rich_markup_mode, suggest_commands=self.suggest_commands
        )

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="shopsight",
    cls=LazyCommandGroup,
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


def main() -> None:
    """Entry point for ``python -m shopsight``."""
    app()
