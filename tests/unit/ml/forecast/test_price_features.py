"""Price features of ``lightgbm_price``: lagged by the horizon (nothing after a cutoff reaches a forecast of
it), relative to the recent median, with a discount flag; the model runs where prices exist only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopsight.ml.forecast.datasets import SeriesSet
from shopsight.ml.forecast.evaluate import evaluate
from shopsight.ml.forecast.models import BacktestPlan, ModelError, backtest, price_features

PLAN = BacktestPlan(freq="W-SUN", season_lengths=(1,), horizon=4, windows=2)


def _prices(values: list[float]) -> pd.DataFrame:
    days = pd.date_range("2024-01-07", periods=len(values), freq="W-SUN")
    return pd.DataFrame({"unique_id": "a", "ds": days, "price": values})


def test_the_features_of_a_period_use_prices_a_horizon_back_only() -> None:
    prices = [10.0] * 12 + [5.0] * 4  # a discount in the last four weeks
    features = price_features(_prices(prices), PLAN)
    assert features["price_vs_recent"].tolist() == [1.0] * 16  # the discount is not known yet
    changed = [*prices[:-1], 99.0]  # the last price moves: no feature of the last horizon may move
    pd.testing.assert_frame_equal(features, price_features(_prices(changed), PLAN))
    at_cutoff = [*prices[:11], 20.0, *prices[12:]]  # a price at a cutoff reaches the period a horizon on
    assert price_features(_prices(at_cutoff), PLAN)["price_vs_recent"].iloc[15] == pytest.approx(2.0)
    later = price_features(_prices(prices + [5.0] * 4), PLAN)
    assert later["price_vs_recent"].iloc[16:].tolist() == pytest.approx([0.5] * 4)
    assert later["discounted"].iloc[16:].tolist() == [1.0] * 4


def test_the_price_model_refuses_series_without_prices() -> None:
    days = pd.date_range("2024-01-07", periods=40, freq="W-SUN")
    frame = pd.DataFrame({"unique_id": "a", "ds": days, "y": np.arange(40.0)})
    with pytest.raises(ModelError, match="needs the series' prices"):
        backtest("lightgbm_price", frame, PLAN)


def test_evaluate_runs_the_price_model_only_where_prices_exist() -> None:
    rng = np.random.default_rng(3)
    weeks = 60
    days = pd.date_range("2023-01-01", periods=weeks, freq="W-SUN")
    frames, price_rows = [], []
    for sku in range(8):
        price = np.where((np.arange(weeks) // 6) % 3 == 2, 7.0, 10.0)  # planned discounts, every 18 weeks
        units = rng.poisson(20 * (10.0 / np.roll(price, 0)) ** 2).astype(float)
        frames.append(pd.DataFrame({"unique_id": f"s{sku}", "ds": days, "y": units}))
        price_rows.append(pd.DataFrame({"unique_id": f"s{sku}", "ds": days, "price": price}))
    frame = pd.concat(frames, ignore_index=True)
    with_prices = SeriesSet("synthetic", frame, "W-SUN", (1,), 4, 2, prices=pd.concat(price_rows))
    scored = evaluate(with_prices, models=["naive", "lightgbm_price"])
    assert {r.model for r in scored.results} == {"naive", "lightgbm_price", "auto"}
    without = SeriesSet("synthetic", frame, "W-SUN", (1,), 4, 2)
    assert {r.model for r in evaluate(without, models=["naive", "lightgbm_price"]).results} == {
        "naive",
        "auto",
    }
