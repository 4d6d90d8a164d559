"""``shopsight forecast evaluate`` on real M4 Hourly: seasonal naive reproduces the official sMAPE."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app

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
