from pathlib import Path

from typer.testing import CliRunner

from shopsight.cli.main import app

runner = CliRunner()


def test_every_command_has_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "sources"):
        assert command in result.output
        assert runner.invoke(app, [command, "--help"]).exit_code == 0


def test_sources_add_prints_a_write_key_and_rejects_duplicates(tmp_path: Path) -> None:
    first = runner.invoke(app, ["--home", str(tmp_path), "sources", "add", "web"])
    assert first.exit_code == 0
    assert first.output.strip().startswith("ss_")
    again = runner.invoke(app, ["--home", str(tmp_path), "sources", "add", "web"])
    assert again.exit_code == 2
    assert "already exists" in again.output
