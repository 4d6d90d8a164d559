"""Shared CLI plumbing: settings from global options, one-line errors, rich console."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from shopsight.config import Settings, load_settings
from shopsight.errors import ShopSightError

if TYPE_CHECKING:
    from shopsight.platform import Platform

console = Console()
err_console = Console(stderr=True)


def settings_from(ctx: typer.Context) -> Settings:
    """Settings built once by the root callback and kept on the typer context."""
    settings = ctx.obj if isinstance(ctx.obj, Settings) else None
    return settings if settings is not None else load_settings()


@contextmanager
def platform_for(ctx: typer.Context) -> Iterator[Platform]:
    """Open the platform for a command, close it after, and turn known errors into one-line exits."""
    from shopsight.platform import Platform  # SQLAlchemy: only for the commands that open the platform

    platform = Platform(settings_from(ctx))
    try:
        yield platform
    except ShopSightError as exc:
        fail(str(exc))
    finally:
        platform.close()


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error in red and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
