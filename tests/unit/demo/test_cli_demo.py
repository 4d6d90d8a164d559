"""``shopsight demo generate`` writes the store under the home folder and prints a summary."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from shopsight.cli import demo
from shopsight.config import Settings

runner = CliRunner()


def cli_app(settings: Settings) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = settings

    demo.register(app)
    return app


def test_generate_writes_files_to_home_demo(settings: Settings) -> None:
    result = runner.invoke(cli_app(settings), ["demo", "generate", "--events", "1500", "--days", "20"])
    assert result.exit_code == 0, result.output
    out = settings.home / "demo"
    assert len((out / "events.ndjson").read_bytes().splitlines()) > 1300
    assert json.loads((out / "labels.json").read_text())["anomalies"]
    assert "events/s" in result.output and "account_takeover" in result.output


def test_every_option_has_help(settings: Settings) -> None:
    result = runner.invoke(cli_app(settings), ["demo", "generate", "--help"])
    assert result.exit_code == 0
    for option in ("--events", "--seed", "--days", "--start", "--out", "--send", "--write-key", "--gzip"):
        assert option in result.output


def test_send_without_write_key_is_refused(settings: Settings, tmp_path: Path) -> None:
    result = runner.invoke(
        cli_app(settings), ["demo", "generate", "--send", "http://localhost:1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--write-key" in result.output


def test_unknown_country_is_a_one_line_error(settings: Settings) -> None:
    result = runner.invoke(cli_app(settings), ["demo", "generate", "--countries", "US,XX"])
    assert result.exit_code == 2
    assert "unknown countries" in result.output
