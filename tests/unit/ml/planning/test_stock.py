"""Stock from the plan's forecasts: weekly distribution, policy, risk and the transfer-first plan."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from shopsight.ml.planning.demand import DemandForecasts
from shopsight.ml.planning.stock import StockSetup, plan_stock, weekly_errors, weekly_forecast

DAYS = 28


def _demand(rates: dict[str, float]) -> DemandForecasts:
    days = pd.date_range("2025-01-01", periods=DAYS)
    forecasts = pd.concat(
        [pd.DataFrame({"unique_id": key, "ds": days, "step": np.arange(1, DAYS + 1), "mean": rate,
                       "lo80": rate, "hi80": rate, "lo95": rate, "hi95": rate})
         for key, rate in rates.items()], ignore_index=True,
    )  # fmt: skip
    rng = np.random.default_rng(1)
    window, step = np.repeat([0, 1], 14), np.tile(np.arange(1, 15), 2)
    errors = pd.concat(
        [pd.DataFrame({"unique_id": key, "window": window, "step": step, "error": rng.normal(0, 1, 28)})
         for key in rates], ignore_index=True,
    )  # fmt: skip
    chosen = pd.DataFrame({"unique_id": list(rates), "model": "croston"})
    return DemandForecasts(forecasts, chosen, errors, 14, ("croston",))


def test_weekly_forecast_sums_days_and_pads_with_the_last_week() -> None:
    daily = np.concatenate([np.full(7, 1.0), np.full(7, 2.0)])
    forecast = weekly_forecast(daily, np.array([0.5, -0.5]), weeks=5)
    np.testing.assert_allclose(forecast.means, [7.0, 14.0, 14.0, 14.0, 14.0])
    short = weekly_forecast(np.full(3, 2.0), np.array([]), weeks=2)
    np.testing.assert_allclose(short.means, [14.0, 14.0])
    np.testing.assert_allclose(short.residuals, [0.0])


def test_weekly_errors_sum_whole_weeks_of_each_window() -> None:
    window, step = np.repeat([0, 1], 10), np.tile(np.arange(1, 11), 2)
    errors = pd.DataFrame({"unique_id": "a", "window": window, "step": step, "error": 1.0})
    np.testing.assert_allclose(weekly_errors(errors)["a"], [7.0, 7.0])  # days 8-10 are no whole week


def test_an_empty_location_gets_the_surplus_of_another_then_a_purchase() -> None:
    demand = _demand({"p@A": 3.0, "p@B": 0.5, "q@A": 0.0})
    series = pd.DataFrame({"unique_id": ["p@A", "p@B", "q@A"], "product_id": ["p", "p", "q"],
                           "location_id": ["A", "B", "A"]})  # fmt: skip
    stock = pd.DataFrame({"product_id": ["p", "p", "q"], "location_id": ["A", "B", "A"],
                          "available": [0.0, 200.0, 0.0]})  # fmt: skip
    products = pd.DataFrame({"product_id": ["p", "q"], "price": [20.0, 5.0], "cost": [8.0, 2.0]})
    plan = plan_stock(demand, series, stock, products, StockSetup(), date(2025, 1, 1))
    risk = plan.risk.set_index(["product_id", "location_id"])
    assert ("q", "A") not in risk.index  # no demand and no stock: nothing to plan
    assert risk.loc[("p", "A"), "status"] == "reorder" and risk.loc[("p", "A"), "stockout_risk"] > 0.9
    assert risk.loc[("p", "B"), "status"] == "overstock"
    lines = plan.replenishment
    transfer = lines[lines["kind"] == "transfer"].iloc[0]
    assert (transfer["source"], transfer["location_id"]) == ("B", "A")
    wanted = risk.loc[("p", "A"), "order_up_to"]
    assert lines["quantity"].sum() >= wanted
    assert transfer["arrives"] == date(2025, 1, 3)
