"""The root CLI imports command modules lazily: its static table must match what they register."""

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
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
    source_root = str(Path(shopsight.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source_root, os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(run.stdout)
    assert report["heavy"] == []
    assert report["loaded"] == []
    assert report["code"] == 0
    for name, entry in COMMANDS.items():
        assert name in report["output"]
        assert entry.help[:40] in report["output"]
