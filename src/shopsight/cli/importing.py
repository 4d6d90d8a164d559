"""Placeholder module, replaced by the capability's real commands."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Nothing to add yet."""
