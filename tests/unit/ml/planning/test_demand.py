"""Demand forecasts: the per-series choice, the fallback for sparse series, calibrated ordered intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopsight.ml.forecast.models import ModelError
from shopsight.ml.planning.demand import (
    FALLBACK,
    DemandSetup,
    backtest_horizon,
    candidate_names,
    conformal_quantile,
    forecast_demand,
)
from shopsight.ml.planning.inputs import PlanDataError

WEEK = np.array([2.0, 2.0, 3.0, 4.0, 9.0, 14.0, 1.0])


def _frame(series: dict[str, np.ndarray]) -> pd.DataFrame:
    days = len(next(iter(series.values())))
    return pd.concat(
        [pd.DataFrame({"unique_id": key, "ds": pd.date_range("2024-01-01", periods=days), "y": values})
         for key, values in series.items()],
        ignore_index=True,
    )  # fmt: skip


def test_a_weekly_series_gets_a_weekly_model_and_a_sparse_one_the_fallback() -> None:
    rng = np.random.default_rng(0)
    weekly = np.tile(WEEK, 20) * 5 + rng.normal(0, 0.5, 140)
    sparse = np.zeros(140)
    sparse[[10, 50]] = 3.0
    result = forecast_demand(_frame({"weekly": weekly, "sparse": sparse}), DemandSetup(horizon=14))
    chosen = result.chosen.set_index("unique_id")["model"]
    assert chosen["weekly"] == "seasonal_naive"
    assert chosen["sparse"] == FALLBACK
    ahead = result.forecasts.set_index(["unique_id", "step"])["mean"]
    np.testing.assert_allclose(ahead["weekly"].to_numpy()[:7], weekly[-7:])
    np.testing.assert_allclose(ahead["sparse"], 6.0 / 140)  # the long-run rate, not the last weeks' zeros


def test_intervals_cover_held_out_demand_near_their_level() -> None:
    rng = np.random.default_rng(7)
    rates = rng.uniform(2, 20, 80)
    values = {f"s{i}": rng.poisson(rate * np.tile(WEEK / WEEK.mean(), 18)[:120]).astype(float)
              for i, rate in enumerate(rates)}  # fmt: skip
    history = {key: y[:92] for key, y in values.items()}
    result = forecast_demand(_frame(history), DemandSetup(horizon=28, windows=2))
    future = _frame(values)
    future = future[future.groupby("unique_id").cumcount() >= 92]
    joined = result.forecasts.merge(future, on=["unique_id", "ds"])
    assert len(joined) == 80 * 28
    inside80 = ((joined["y"] >= joined["lo80"]) & (joined["y"] <= joined["hi80"])).mean()
    inside95 = ((joined["y"] >= joined["lo95"]) & (joined["y"] <= joined["hi95"])).mean()
    assert 0.72 <= inside80 <= 0.9, inside80
    assert 0.9 <= inside95 <= 0.99, inside95
    ordered = joined[["lo95", "lo80", "mean", "hi80", "hi95"]].diff(axis=1).iloc[:, 1:]
    assert (ordered >= 0).all().all()


def test_the_backtest_window_shrinks_to_fit_short_histories() -> None:
    assert backtest_horizon(365, DemandSetup(horizon=28, windows=2)) == 28
    assert backtest_horizon(30, DemandSetup(horizon=28, windows=2, min_train=14)) == 8
    with pytest.raises(PlanDataError, match="too few"):
        backtest_horizon(15, DemandSetup(windows=2, min_train=14))


def test_only_statsforecast_candidates() -> None:
    assert candidate_names(("tsb", "croston")) == ["croston", "tsb"]
    with pytest.raises(ModelError, match="lightgbm"):
        candidate_names(("lightgbm",))
    with pytest.raises(ModelError, match="unknown model"):
        candidate_names(("prophet",))


def test_conformal_quantile_is_the_finite_sample_rank() -> None:
    """The ceil((n + 1) level)-th smallest score, else the largest; a short history's 95% is wider."""
    assert conformal_quantile(pd.Series(np.arange(1.0, 100.0)), 0.8) == 80.0  # ceil(100 * 0.8)
    assert conformal_quantile(pd.Series(np.arange(1.0, 10.0)), 0.8) == 8.0  # ceil(10 * 0.8)
    assert conformal_quantile(pd.Series(np.arange(1.0, 10.0)), 0.95) == 9.0  # rank 10 of 9: the largest
    # 30 scores, mostly tied, as a month of demo sales gives: interpolation made 80% and 95% equal.
    tied = pd.Series([0.31] * 8 + [0.5] * 6 + [0.67] * 15 + [12.0])
    assert tied.quantile(0.8) == tied.quantile(0.95) == 0.67
    assert (conformal_quantile(tied, 0.8), conformal_quantile(tied, 0.95)) == (0.67, 12.0)
