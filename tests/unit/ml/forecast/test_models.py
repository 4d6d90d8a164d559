"""Backtests: seasonal naive repeats the last season, and no forecast ever sees its own window."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from shopsight.ml.forecast.datasets import SeriesSet
from shopsight.ml.forecast.evaluate import (
    SMALL_SET,
    SMALL_SET_SELECTION,
    choose,
    evaluate,
    selection_windows,
    window_scales,
    with_window,
)
from shopsight.ml.forecast.holidays import HolidayCalendar
from shopsight.ml.forecast.models import BacktestPlan, ModelError, backtest, check_names, lightgbm_lags

PLAN = BacktestPlan(
    freq="D", season_lengths=(7,), horizon=7, windows=3, holidays=HolidayCalendar("GB", "ENG")
)


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


@pytest.mark.parametrize("pooled", [False, True])
def test_auto_choice_for_a_window_ignores_its_actuals(demand: Any, pooled: bool) -> None:
    def picks(frame: Any) -> dict[str, int]:
        runs = {name: with_window(backtest(name, frame, PLAN)) for name in ("naive", "seasonal_naive")}
        return choose(runs, window_scales(frame, runs["naive"], 7), pooled=pooled)[1]

    last_cutoff = backtest("naive", demand, PLAN)["cutoff"].max()
    assert picks(demand) == picks(_scrambled_after(demand, last_cutoff))


def test_auto_picks_seasonal_naive_on_a_clean_weekly_pattern(demand: Any) -> None:
    frame = demand.assign(y=np.tile(np.arange(7.0), len(demand) // 7 + 1)[: len(demand)])
    runs = {name: with_window(backtest(name, frame, PLAN)) for name in ("naive", "seasonal_naive")}
    auto, chosen = choose(runs, window_scales(frame, runs["naive"], 7))
    assert chosen == {"seasonal_naive": 3 * 2}
    assert set(auto["window"]) == {1, 2}


def test_pooled_auto_takes_one_model_for_every_series(demand: Any) -> None:
    # sku0 alone repeats its week exactly, where seasonal naive is perfect; the other two are pure noise
    # around a level, where naive wins per series. Pooled, seasonal naive's MASE is lower, so all take it.
    rng = np.random.default_rng(0)
    pattern = np.tile(np.arange(7.0), len(demand) // 7 + 1)[: len(demand)]
    noisy = rng.poisson(20, len(demand)).astype(float)
    frame = demand.assign(y=np.where(demand["unique_id"] == "sku0", pattern * 10, noisy))
    runs = {name: with_window(backtest(name, frame, PLAN)) for name in ("naive", "seasonal_naive")}
    scales = window_scales(frame, runs["naive"], 7)
    per_series = choose(runs, scales)[1]
    pooled_auto, pooled = choose(runs, scales, pooled=True)
    assert len(per_series) == 2  # the per-series choice differs between the series ...
    assert len(pooled) == 1 and sum(pooled.values()) == 3 * 2  # ... the pooled one does not
    chosen = next(iter(pooled))
    np.testing.assert_allclose(pooled_auto["forecast"], runs[chosen][runs[chosen]["window"] > 0]["forecast"])


def test_pooled_auto_falls_back_where_the_best_model_has_no_forecast(demand: Any) -> None:
    runs = {name: with_window(backtest(name, demand, PLAN)) for name in ("naive", "seasonal_naive")}
    scales = window_scales(demand, runs["naive"], 7)
    best = next(iter(choose(runs, scales, pooled=True)[1]))
    other = "naive" if best == "seasonal_naive" else "seasonal_naive"
    runs[best] = runs[best][runs[best]["unique_id"] != "sku2"]  # as LightGBM drops too short a series
    auto, chosen = choose(runs, scales, pooled=True)
    assert chosen == {best: 2 * 2, other: 2}
    sku2 = auto[auto["unique_id"] == "sku2"]["forecast"].to_numpy()
    np.testing.assert_allclose(sku2, runs[other].query("unique_id == 'sku2' and window > 0")["forecast"])


def test_models_are_ranked_on_the_series_they_all_forecast(demand: Any) -> None:
    # sku2 nearly repeats its week, where naive's MASE is far above its MASE on the two noisy series.
    # "partial" is naive without sku2: ranked on its own series it would look much better than naive.
    rng = np.random.default_rng(0)
    pattern = np.tile(np.arange(7.0), len(demand) // 7 + 1)[: len(demand)] * 10 + rng.random(len(demand))
    noisy = rng.poisson(20, len(demand)).astype(float)
    frame = demand.assign(y=np.where(demand["unique_id"] == "sku2", pattern, noisy))
    naive = with_window(backtest("naive", frame, PLAN))
    runs = {"naive": naive, "partial": naive[naive["unique_id"] != "sku2"]}
    scales = window_scales(frame, naive, 7)
    assert choose(runs, scales, pooled=True)[1] == {"naive": 3 * 2}  # a tie: the first model keeps it


@pytest.mark.parametrize("pooled", [False, True])
def test_a_far_worse_candidate_does_not_widen_autos_interval(demand: Any, pooled: bool) -> None:
    # "bad" forecasts 500 units too many: no series picks it, and its errors, far outside those of the
    # models in contention, must not enter the conformal quantiles either.
    frame = demand.assign(y=demand["y"] + 50.0)  # far from zero, so no bound is floored
    runs = {name: with_window(backtest(name, frame, PLAN)) for name in ("naive", "seasonal_naive")}
    scales = window_scales(frame, runs["naive"], 7)
    bad = runs["naive"].assign(forecast=runs["naive"]["forecast"] + 500.0)
    without = choose(runs, scales, pooled=pooled)[0]
    with_bad, chosen = choose({**runs, "bad": bad}, scales, pooled=pooled)
    assert "bad" not in chosen
    np.testing.assert_allclose(with_bad[["forecast", "lo", "hi"]], without[["forecast", "lo", "hi"]])


def test_selection_windows_grow_only_for_small_sets_with_room(demand: Any) -> None:
    assert selection_windows(demand, 7, 2) == SMALL_SET_SELECTION  # 140 days: room for all of them
    assert selection_windows(demand[demand["ds"] < demand["ds"].min() + np.timedelta64(49, "D")], 7, 2) == 2
    assert selection_windows(demand[demand["ds"] < demand["ds"].min() + np.timedelta64(28, "D")], 7, 2) == 1
    many = pd.concat(
        [demand.assign(unique_id=demand["unique_id"] + f"-{i}") for i in range(SMALL_SET // 3 + 1)]
    )
    assert selection_windows(many, 7, 2) == 1


def test_evaluate_tests_on_the_asked_windows_after_the_selection_ones(demand: Any) -> None:
    data = SeriesSet("three", demand, "D", (7,), 7, 2, [])
    result = evaluate(data, models=["naive", "seasonal_naive"])
    assert result.windows == 2 and sum(result.chosen.values()) == 3 * 2
    assert any(f"after {SMALL_SET_SELECTION} selection window(s)" in note for note in result.notes)
    assert any("one model for all" in note for note in result.notes)


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


def test_the_spark_lightgbm_trains_what_the_local_regressor_trains() -> None:
    """The Spark estimator hands ``lightgbm.train`` the local LGBMRegressor's settings: on one machine the
    two give the same model."""
    import lightgbm as lgb

    from shopsight.engines.spark.lightgbm import train_params
    from shopsight.ml.forecast.models import LIGHTGBM_PARAMS, global_regressor

    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 3))
    labels = features[:, 0] + rng.normal(size=500)
    params, rounds = train_params(LIGHTGBM_PARAMS)
    trained = lgb.train(params, lgb.Dataset(features, labels), num_boost_round=rounds)
    local = global_regressor("lightgbm").fit(features, labels)
    np.testing.assert_allclose(trained.predict(features), local.predict(features))
    assert trained.num_trees() == LIGHTGBM_PARAMS["n_estimators"]
