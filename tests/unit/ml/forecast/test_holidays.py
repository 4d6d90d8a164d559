"""UK bank-holiday features: the calendar's values, and LightGBM learning a holiday closure from them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shopsight.ml.forecast.holidays import (
    days_after_uk_bank_holiday,
    days_to_uk_bank_holiday,
    holiday_features,
    uk_bank_holiday,
    uk_bank_holidays_in_week,
)
from shopsight.ml.forecast.models import BacktestPlan, backtest

EASTER_2011 = pd.date_range("2011-04-20", "2011-04-26")  # Good Friday 22nd, Easter Monday 25th


def test_flags_and_distances_around_easter_2011() -> None:
    assert list(uk_bank_holiday(EASTER_2011)) == [0, 0, 1, 0, 0, 1, 0]
    assert list(days_to_uk_bank_holiday(EASTER_2011)) == [2, 1, 0, 2, 1, 0, 3]  # 29th: royal wedding
    assert list(days_after_uk_bank_holiday(EASTER_2011)) == [14, 14, 0, 1, 2, 0, 1]


def test_weekly_counts_and_frequencies() -> None:
    weeks = pd.date_range("2011-04-17", periods=4, freq="W-SUN")
    assert list(uk_bank_holidays_in_week(weeks)) == [0, 1, 2, 1]
    assert len(holiday_features("D")) == 3 and holiday_features("W-SUN") == [uk_bank_holidays_in_week]
    assert holiday_features(1) == [] and holiday_features("h") == []


def _closed_on_bank_holidays(skus: int = 10) -> Any:
    """Steady daily sales, none on bank holidays (the shop is shut), up to the week of 2011-08-29."""
    rng = np.random.default_rng(5)
    days = pd.date_range("2010-12-01", "2011-09-04", freq="D")
    open_days = 1 - uk_bank_holiday(days)
    frames = [
        pd.DataFrame({"unique_id": f"sku{i}", "ds": days, "y": rng.poisson(20.0, len(days)) * open_days})
        for i in range(skus)
    ]
    return pd.concat(frames, ignore_index=True).astype({"y": float})


def test_lightgbm_with_holidays_learns_the_closure_from_past_holidays() -> None:
    demand = _closed_on_bank_holidays()
    plan = BacktestPlan(freq="D", season_lengths=(7,), horizon=7, windows=1)
    holiday = pd.Timestamp("2011-08-29")  # the only bank holiday of the test week
    error = {}
    for model in ("lightgbm", "lightgbm_holidays"):
        run = backtest(model, demand, plan)
        assert (run["cutoff"] == pd.Timestamp("2011-08-28")).all()
        error[model] = run.loc[run["ds"] == holiday, "forecast"].abs().mean()  # the actual is 0
    assert error["lightgbm_holidays"] < 5.0 < error["lightgbm"]
