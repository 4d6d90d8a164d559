"""The root CLI imports command modules lazily: its static table must match what they register."""

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer
import typer.main

import shopsight
import shopsight.cli
from shopsight.cli.main import COMMANDS, app


def _registered_by(module_name: str) -> list[str]:
    module = importlib.import_module(f"shopsight.cli.{module_name}")
    scratch = typer.Typer()
    module.register(scratch)
    return list(typer.main.get_group(scratch).commands)


def test_every_register_function_is_in_the_table() -> None:
    modules = [info.name for info in pkgutil.iter_modules(shopsight.cli.__path__) if info.name != "main"]
    with_register = [
        name for name in modules if hasattr(importlib.import_module(f"shopsight.cli.{name}"), "register")
    ]
    registered = {command: module for module in with_register for command in _registered_by(module)}
    assert registered == {name: entry.module for name, entry in COMMANDS.items()}


def test_listed_help_is_the_first_paragraph_of_each_commands_help() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, click.Group)
    ctx = click.Context(root)
    assert root.list_commands(ctx) == list(COMMANDS)
    for name, entry in COMMANDS.items():
        command = root.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.callback is not None or isinstance(command, click.Group), f"{name} is a placeholder"
        own_help = command.short_help or command.help or ""
        assert inspect.cleandoc(own_help).split("\n\n")[0].strip() == entry.help, name


def _run_fresh(script: str, *args: str) -> dict[str, Any]:
    """Run ``script`` in a new interpreter on this checkout's sources; it prints one JSON object."""
    source_root = str(Path(shopsight.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source_root, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def test_importing_the_cli_and_its_help_load_no_command_module_nor_heavy_library() -> None:
    script = """
import json, sys
import shopsight.cli.main
from typer.testing import CliRunner
heavy = sorted(m for m in ("pandas", "ibis", "pyarrow", "sqlalchemy") if m in sys.modules)
result = CliRunner().invoke(shopsight.cli.main.app, ["--help"])
loaded = sorted(
    m.rsplit(".", 1)[1] for m in sys.modules
    if m.startswith("shopsight.cli.") and m not in ("shopsight.cli.main", "shopsight.cli.common")
)
print(json.dumps({"heavy": heavy, "loaded": loaded, "code": result.exit_code, "output": result.output}))
"""
    report = _run_fresh(script)
    assert report["heavy"] == []
    assert report["loaded"] == []
    assert report["code"] == 0
    for name, entry in COMMANDS.items():
        assert name in report["output"]
        assert entry.help[:40] in report["output"]


# Libraries that cost a second or more to import (measured with ``python -X importtime``).
HEAVY_LIBRARIES = (
    "duckdb", "ibis", "lightgbm", "mlforecast", "numpy", "pandas", "pyarrow", "scipy", "sklearn",
    "sqlalchemy", "statsforecast",
)  # fmt: skip
# Commands whose modules import those libraries only when a command runs, so their help is quick.
LIGHT_COMMANDS = (
    "audit", "catalog", "demo", "forecast", "import", "inventory", "keys", "kpi", "lake", "pipeline", "plan",
    "pricing", "publish", "quality", "quickstart", "recs", "schemas", "sources", "users",
)  # fmt: skip


@pytest.mark.parametrize("command", LIGHT_COMMANDS)
def test_a_light_commands_help_loads_no_heavy_library(command: str) -> None:
    script = """
import json, sys
import click, typer.main
from typer.testing import CliRunner
from shopsight.cli.main import app
runner, root = CliRunner(), typer.main.get_command(app)
def paths(group, path):
    yield path
    for name in group.list_commands(click.Context(group)) if isinstance(group, click.Group) else ():
        yield from paths(group.get_command(click.Context(group), name), [*path, name])
command, heavy = root.get_command(click.Context(root), sys.argv[1]), sys.argv[2:]
codes = {" ".join(p): runner.invoke(app, [*p, "--help"]).exit_code for p in paths(command, [sys.argv[1]])}
print(json.dumps({"codes": codes, "heavy": sorted(m for m in heavy if m in sys.modules)}))
"""
    report = _run_fresh(script, command, *HEAVY_LIBRARIES)
    assert report["heavy"] == []
    assert set(report["codes"].values()) == {0}, report["codes"]
