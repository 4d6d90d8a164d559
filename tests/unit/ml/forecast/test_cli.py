"""``shopsight forecast evaluate --series CSV``: JSON shape, markdown, and clear errors on bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app

from .conftest import daily_demand

runner = CliRunner()
KEYS = {"model", "mase", "smape", "rmsse", "wape", "coverage80"}
FAST = "naive,seasonal_naive,window_average,tsb"


def _csv(path: Path, frame: Any) -> Path:
    frame.rename(columns={"unique_id": "sku", "ds": "day", "y": "units"}).to_csv(path, index=False)
    return path


def _evaluate(csv: Path, *extra: str) -> Any:
    args = ["forecast", "evaluate", "--series", str(csv), "--id-col", "sku", "--time-col", "day",
            "--target-col", "units", "--freq", "D", *extra]  # fmt: skip
    return runner.invoke(app, args)


def test_json_has_one_object_per_model_with_the_metric_keys(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "sales.csv", daily_demand(skus=4, days=84))
    result = _evaluate(csv, "--horizon", "7", "--windows", "2", "--models", FAST, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.stdout)
    assert [row["model"] for row in rows] == [*FAST.split(","), "auto"]
    for row in rows:
        assert row.keys() >= KEYS
        assert 0.0 <= row["coverage80"] <= 1.0
        assert row["mase"] > 0 and 0 < row["smape"] < 200
    by_model = {row["model"]: row for row in rows}
    # A strong weekly pattern: repeating last week beats repeating yesterday.
    assert by_model["seasonal_naive"]["mase"] < by_model["naive"]["mase"]


def test_markdown_is_a_table_with_the_verdicts(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "sales.csv", daily_demand(skus=2, days=70))
    result = _evaluate(csv, "--horizon", "7", "--models", "naive,seasonal_naive", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("| model | mase | smape |")
    assert "| auto |" in result.stdout and "lower than seasonal naive" in result.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--horizon", "7", "--models", "prophet"], "unknown model prophet"),
        (["--horizon", "30", "--windows", "3"], "fewer than 240 points"),
        (["--horizon", "7", "--target-col", "price"], "no column price"),
        ([], "needs --id-col, --time-col, --target-col, --freq and --horizon"),
        (["--horizon", "7", "--holidays", "XX"], "no holiday calendar for country 'XX'"),
        (
            ["--horizon", "7", "--models", "lightgbm_holidays"],
            "needs the series' holiday calendar (--holidays",
        ),
    ],
)
def test_bad_input_is_a_one_line_error(tmp_path: Path, extra: list[str], message: str) -> None:
    csv = _csv(tmp_path / "sales.csv", daily_demand(skus=2, days=70))
    result = _evaluate(csv, *extra)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_holidays_give_lightgbm_its_calendar(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "sales.csv", daily_demand(skus=3, days=84))
    args = ("--horizon", "7", "--models", "naive,lightgbm_holidays", "--format", "json")
    result = _evaluate(csv, *args, "--holidays", "GB-ENG")
    assert result.exit_code == 0, result.output
    assert [row["model"] for row in orjson.loads(result.stdout)] == ["naive", "lightgbm_holidays", "auto"]


def test_times_off_the_frequency_grid_are_rejected(tmp_path: Path) -> None:
    frame = daily_demand(skus=1, days=70)
    frame.loc[5, "ds"] = frame.loc[5, "ds"] + pd.Timedelta(hours=6)
    result = _evaluate(_csv(tmp_path / "sales.csv", frame), "--horizon", "7")
    assert result.exit_code == 2
    assert "not spaced by the frequency" in result.output


def test_dataset_and_series_are_exclusive(tmp_path: Path) -> None:
    csv = _csv(tmp_path / "sales.csv", daily_demand(skus=1, days=70))
    result = runner.invoke(app, ["forecast", "evaluate", "--dataset", "m4-hourly", "--series", str(csv)])
    assert result.exit_code == 2
    assert "exactly one of --dataset NAME or --series CSV" in result.output
    unknown = runner.invoke(app, ["forecast", "evaluate", "--dataset", "m5"])
    assert unknown.exit_code == 2 and "unknown dataset 'm5'" in unknown.output
