"""`shopsight plan run` on a copy of a published demo warehouse: options reach the job, the run is stored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.config import load_settings
from shopsight.ml.planning.store import PlanInfo, PlanStore, plans_dir
from shopsight.platform import Platform

runner = CliRunner()


def test_plan_run_stores_a_plan_with_the_given_options(
    planned: tuple[Platform, PlanInfo], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(planned[0].settings.warehouse_dir, home / "warehouse")  # its pointer names the files
    args = ["--home", str(home), "plan", "run", "--horizon", "14", "--fill-rate", "0.9", "--format", "json"]
    result = runner.invoke(app, [*args, "--models", "tsb,croston"])
    assert result.exit_code == 0, result.output
    info = PlanInfo.model_validate(json.loads(result.stdout))
    assert info.horizon == 14 and info.settings["fill_rate"] == 0.9
    assert info.models == ["croston", "tsb", "historic_average"]
    assert PlanStore(plans_dir(load_settings(home=home))).current() == info
    assert info.rows["forecast"] == info.rows["series"] * 14


def test_plan_run_explains_what_is_missing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--home", str(tmp_path / "empty"), "plan", "run"])
    assert result.exit_code == 2 and "shopsight pipeline run" in result.output
    bad = runner.invoke(app, ["--home", str(tmp_path / "empty"), "plan", "run", "--models", "lightgbm"])
    assert bad.exit_code == 2 and "statsforecast models only" in bad.output
