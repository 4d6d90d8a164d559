"""``shopsight keys``: rotate the key-encryption key, finish a re-wrap, show key status."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopsight.cli.common import console, platform_for

if TYPE_CHECKING:  # the key store's SQLAlchemy loads only when a command runs, not for --help
    from shopsight.privacy.rotation import KeyStatus, RewrapReport

CLI_ACTOR = "cli"

keys_app = typer.Typer(help="Key management: KEK rotation and status.", no_args_is_help=True)
BatchSize = Annotated[int, typer.Option(min=1, help="Data keys re-wrapped per transaction.")]


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    columns = (TextColumn("re-wrapping data keys"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("rewrap", total=total)
        yield lambda done: progress.advance(task, done)


@keys_app.command("rotate")
def rotate(ctx: typer.Context, batch_size: BatchSize = 500) -> None:
    """Add a KEK version and re-wrap every data key under it (data is not re-encrypted)."""
    from shopsight.privacy.rotation import rotate_keys
    from shopsight.security.audit_factory import open_audit

    with platform_for(ctx) as platform:
        guard = platform.privacy
        with _progress(sum(guard.keys.count_by_kek_version().values())) as advance:
            report = rotate_keys(
                guard=guard,
                audit=open_audit(platform),
                actor=CLI_ACTOR,
                batch_size=batch_size,
                on_batch=advance,
            )
    _print_report(report, "rotated")


@keys_app.command("rewrap")
def rewrap(ctx: typer.Context, batch_size: BatchSize = 500) -> None:
    """Re-wrap data keys still under an older KEK (finishes an interrupted rotation)."""
    from shopsight.privacy.rotation import key_status, rewrap_keys
    from shopsight.security.audit_factory import open_audit

    with platform_for(ctx) as platform:
        guard = platform.privacy
        with _progress(key_status(guard).pending_rewrap) as advance:
            report = rewrap_keys(
                guard=guard,
                audit=open_audit(platform),
                actor=CLI_ACTOR,
                batch_size=batch_size,
                on_batch=advance,
            )
    _print_report(report, "re-wrapped")


def _print_report(report: RewrapReport, verb: str) -> None:
    console.print(
        f"{verb}: KEK v{report.previous_version} -> v{report.active_version} ({report.provider}),"
        f" {report.rewrapped} data keys re-wrapped, {report.cards_rewrapped} card numbers re-sealed",
        highlight=False,
    )


@keys_app.command("status")
def status(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Provider, active KEK version, all versions and the data keys each one wraps."""
    from shopsight.privacy.rotation import key_status

    with platform_for(ctx) as platform:
        current = key_status(platform.privacy)
    if as_json:
        console.print_json(current.model_dump_json())
        return
    console.print(_status_table(current))


def _status_table(current: KeyStatus) -> Table:
    table = Table("KEK version", "data keys", "", title=f"KEKs in {current.provider}")
    for version in current.versions:
        marker = "active" if version == current.active_version else ""
        table.add_row(f"v{version}", str(current.data_keys_by_version.get(version, 0)), marker)
    table.caption = f"{current.pending_rewrap} data keys wait for a re-wrap (`shopsight keys rewrap`)"
    return table


def register(app: typer.Typer) -> None:
    """Add the ``keys`` group."""
    app.add_typer(keys_app, name="keys")
