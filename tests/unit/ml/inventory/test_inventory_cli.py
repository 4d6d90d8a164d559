"""`shopsight inventory simulate` on the real online-retail demand."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.ml.inventory.datasets import HeldOut, held_out_series, weekly_demand


def test_held_out_weeks_never_reach_into_the_history() -> None:
    series = list(held_out_series(weekly_demand(), HeldOut.q4, top=5))
    assert len(series) == 5
    for _name, history, future in series:
        assert len(history) == 41 and len(future) == 10  # weeks ending 2010-12-12..2011-09-25, 10-02..12-04


def test_simulate_reports_the_fill_rate_against_the_target() -> None:
    arguments = ["--dataset", "online-retail", "--held-out", "summer", "--top", "20", "--fill-rate", "0.9"]
    result = CliRunner().invoke(app, ["inventory", "simulate", *arguments, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["series"] == 20 and report["target_fill_rate"] == 0.9
    assert 0.5 < report["achieved_fill_rate"] <= 1.0 and report["orders"] > 0
