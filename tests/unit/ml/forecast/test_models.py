"""Backtests: seasonal naive repeats the last season, and no forecast ever sees its own window."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shopsight.ml.forecast.evaluate import choose, window_scales, with_window
from shopsight.ml.forecast.models import BacktestPlan, ModelError, backtest, check_names, lightgbm_lags

PLAN = BacktestPlan(freq="D", season_lengths=(7,), horizon=7, windows=3)


def test_seasonal_naive_repeats_the_last_week_before_each_cutoff(demand: Any) -> None:
    run = backtest("seasonal_naive", demand, PLAN)
    assert len(run) == 3 * 3 * 7
    for (series, cutoff), window in run.groupby(["unique_id", "cutoff"]):
        history = demand[(demand["unique_id"] == series) & (demand["ds"] <= cutoff)]["y"].to_numpy()
        np.testing.assert_allclose(window["forecast"].to_numpy(), history[-7:])
        assert (window["ds"] > cutoff).all()
        assert (window["lo"] <= window["forecast"]).all() and (window["forecast"] <= window["hi"]).all()


def _scrambled_after(demand: Any, cutoff: Any) -> Any:
    """The same series with every point after ``cutoff`` replaced by huge values."""
    changed = demand.copy()
    after = changed["ds"] > cutoff
    changed.loc[after, "y"] = 1e6 + np.arange(after.sum())
    return changed


@pytest.mark.parametrize(
    "model", ["naive", "seasonal_naive", "auto_ets", "tsb", "window_average", "lightgbm", "lightgbm_holidays"]
)
def test_forecasts_of_a_window_ignore_its_actuals(demand: Any, model: str) -> None:
    run = backtest(model, demand, PLAN)
    last_cutoff = run["cutoff"].max()
    scrambled = backtest(model, _scrambled_after(demand, last_cutoff), PLAN)
    last = run["cutoff"] == last_cutoff
    np.testing.assert_allclose(scrambled.loc[last, "forecast"], run.loc[last, "forecast"])
    np.testing.assert_allclose(scrambled.loc[last, ["lo", "hi"]], run.loc[last, ["lo", "hi"]])
    assert not np.allclose(scrambled.loc[last, "y"], run.loc[last, "y"])  # the test itself bites


def test_auto_choice_for_a_window_ignores_its_actuals(demand: Any) -> None:
    def picks(frame: Any) -> dict[str, int]:
        runs = {name: with_window(backtest(name, frame, PLAN)) for name in ("naive", "seasonal_naive")}
        return choose(runs, window_scales(frame, runs["naive"], 7))[1]

    last_cutoff = backtest("naive", demand, PLAN)["cutoff"].max()
    assert picks(demand) == picks(_scrambled_after(demand, last_cutoff))


def test_auto_picks_seasonal_naive_on_a_clean_weekly_pattern(demand: Any) -> None:
    frame = demand.assign(y=np.tile(np.arange(7.0), len(demand) // 7 + 1)[: len(demand)])
    runs = {name: with_window(backtest(name, frame, PLAN)) for name in ("naive", "seasonal_naive")}
    auto, chosen = choose(runs, window_scales(frame, runs["naive"], 7))
    assert chosen == {"seasonal_naive": 3 * 2}
    assert set(auto["window"]) == {1, 2}


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ModelError, match="unknown model prophet"):
        check_names(["naive", "prophet"])


def test_lightgbm_lags_cover_every_season() -> None:
    hourly = BacktestPlan(freq=1, season_lengths=(24, 168), horizon=48, windows=2)
    assert {1, 24, 48, 168, 336} <= set(lightgbm_lags(hourly))


def test_forecast_fits_every_model_in_one_frame_after_the_last_day(demand: Any) -> None:
    from shopsight.ml.forecast.models import forecast

    result = forecast(["croston", "seasonal_naive"], demand, PLAN)
    assert list(result.columns[:2]) == ["unique_id", "ds"] and len(result) == 3 * 7
    assert {"seasonal_naive", "seasonal_naive-lo-80", "croston-hi-80"} <= set(result.columns)
    for series, rows in result.groupby("unique_id"):
        history = demand[demand["unique_id"] == series]
        assert (rows["ds"] > history["ds"].max()).all()
        np.testing.assert_allclose(rows["seasonal_naive"].to_numpy(), history["y"].to_numpy()[-7:])
    assert (result[result.columns[2:]] >= 0).all().all()  # units: floored at 0, bounds included
