"""Reconciliation: the total is the sum of the SKUs before and after, and each level is scored apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.ml.forecast.datasets import ForecastDataError, SeriesSet
from shopsight.ml.forecast.evaluate import AUTO, evaluate, with_window
from shopsight.ml.forecast.hierarchy import TOTAL, build, reconcile
from shopsight.ml.forecast.models import BacktestPlan, backtest

from .conftest import daily_demand

PLAN = BacktestPlan(freq="D", season_lengths=(7,), horizon=7, windows=2)


def _series(frame: Any) -> SeriesSet:
    return SeriesSet("demand", frame, "D", (7,), 7, 1, level="sku")


def test_the_total_sums_every_sku_on_every_day(demand: Any) -> None:
    levels = build(_series(demand))
    assert list(levels.levels) == [TOTAL, "sku"]
    assert levels.levels[TOTAL] == [TOTAL] and len(levels.levels["sku"]) == 3
    frame = levels.frame
    total = frame[frame["unique_id"] == TOTAL].set_index("ds")["y"]
    np.testing.assert_allclose(total.to_numpy(), demand.groupby("ds")["y"].sum().loc[total.index].to_numpy())


def _runs(levels: Any, models: tuple[str, ...]) -> dict[str, Any]:
    return {name: with_window(backtest(name, levels.frame, PLAN)) for name in models}


def _total_minus_skus(run: Any, levels: Any) -> Any:
    skus = run[run["unique_id"].isin(levels.levels["sku"])].groupby("ds")["forecast"].sum()
    total = run[run["unique_id"] == TOTAL].set_index("ds")["forecast"]
    return (total - skus.loc[total.index]).to_numpy()


@pytest.mark.parametrize("method", ["bottom_up", "min_trace"])
def test_reconciled_forecasts_are_coherent(demand: Any, method: str) -> None:
    levels = build(_series(demand))
    runs = _runs(levels, ("auto_ets", "tsb"))
    # AutoETS picks its model per series: its base total differs from the sum of the SKUs' forecasts
    assert np.abs(_total_minus_skus(runs["auto_ets"], levels)).max() > 0.1
    coherent = reconcile(runs, levels, method, non_negative=True)
    for name, run in coherent.items():
        assert len(run) == len(runs[name])
        np.testing.assert_allclose(_total_minus_skus(run, levels), 0.0, atol=1e-6)
        assert (run["lo"] <= run["forecast"] + 1e-9).all() and (run["forecast"] <= run["hi"] + 1e-9).all()
    if method == "bottom_up":  # the SKUs keep their own forecasts
        skus = runs["auto_ets"]["unique_id"].isin(levels.levels["sku"])
        np.testing.assert_allclose(
            coherent["auto_ets"].loc[skus, "forecast"], runs["auto_ets"].loc[skus, "forecast"]
        )


def test_series_ending_on_different_days_cannot_be_reconciled(demand: Any) -> None:
    shorter = demand.drop(demand[demand["unique_id"] == "sku0"].index[-1])
    with pytest.raises(ForecastDataError, match="end on the same period"):
        build(_series(shorter))


def test_evaluate_scores_each_level_and_auto_at_the_bottom(demand: Any) -> None:
    evaluation = evaluate(
        _series(demand), models=["naive", "seasonal_naive"], windows=2, reconcile="bottom_up"
    )
    assert {(r.model, r.level) for r in evaluation.results} == {
        (m, level) for m in ("naive", "seasonal_naive", AUTO) for level in (TOTAL, "sku")
    }
    auto = evaluation.score(AUTO)
    assert auto is not None and auto.level == "sku"
    assert any(note.startswith("total (1 series): auto MASE") for note in evaluation.notes)


def test_cli_json_has_a_level_key_only_when_reconciling(tmp_path: Path) -> None:
    csv = tmp_path / "sales.csv"
    daily_demand(skus=3, days=70).rename(columns={"unique_id": "sku", "ds": "day", "y": "units"}).to_csv(
        csv, index=False
    )
    args = ["forecast", "evaluate", "--series", str(csv), "--id-col", "sku", "--time-col", "day",
            "--target-col", "units", "--freq", "D", "--horizon", "7", "--models", "naive,seasonal_naive",
            "--format", "json"]  # fmt: skip
    plain = orjson.loads(CliRunner().invoke(app, args).stdout)
    assert all("level" not in row for row in plain)
    result = CliRunner().invoke(app, [*args, "--reconcile", "min_trace"])
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.stdout)
    assert {(row["model"], row["level"]) for row in rows} == {
        (m, level) for m in ("naive", "seasonal_naive", AUTO) for level in (TOTAL, "series")
    }
    assert all(row.keys() >= {"model", "mase", "smape", "rmsse", "wape", "coverage80"} for row in rows)
