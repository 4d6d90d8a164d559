"""``shopsight forecast evaluate`` on real M4 Hourly: seasonal naive reproduces the official sMAPE."""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.ml.forecast.datasets import m4_hourly

pytestmark = pytest.mark.slow

KEYS = {"model", "mase", "smape", "rmsse", "wape", "coverage80"}


def test_m4_hourly_seasonal_naive_matches_the_official_smape(
    datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPSIGHT_DATASETS", str(datasets))
    args = [
        "forecast",
        "evaluate",
        "--dataset",
        "m4-hourly",
        "--models",
        "naive,seasonal_naive",
        "--format",
        "json",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = {row["model"]: row for row in orjson.loads(result.stdout)}
    assert {"naive", "seasonal_naive", "auto"} == rows.keys()
    for row in rows.values():
        assert row.keys() >= KEYS
    # M4 "Evaluation and Ranks.xlsx": sNaive 13.912 sMAPE and 1.193 MASE, Naive 43.003 sMAPE on Hourly.
    assert round(rows["seasonal_naive"]["smape"], 3) == 13.912
    assert round(rows["seasonal_naive"]["mase"], 3) == 1.193
    assert round(rows["naive"]["smape"], 3) == 43.003


def test_m4_hourly_is_one_unbroken_hourly_series_per_id_ending_in_the_official_test(datasets: Path) -> None:
    """Every step is present once (mlforecast refuses gaps), and the last 48 are the test file's values."""
    frame = m4_hourly(datasets).frame
    steps = frame.groupby("unique_id")["ds"]
    assert (steps.max() - steps.min() + 1 == steps.size()).all()
    assert not frame.duplicated(["unique_id", "ds"]).any()
    test = pd.read_csv(datasets / "m4-hourly" / "Hourly-test.csv.gz").set_index("V1")
    for series in ("H1", "H200", "H414"):
        tail = frame[frame["unique_id"] == series]["y"].to_numpy()[-48:]
        assert list(tail) == list(test.loc[series].to_numpy(dtype=float))
