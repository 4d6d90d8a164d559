"""Holiday features from the ``holidays`` package: the calendar's values, and LightGBM learning a holiday
closure from them."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shopsight.ml.forecast.holidays import HolidayCalendar, HolidayCalendarError, HolidayFeature
from shopsight.ml.forecast.models import BacktestPlan, ModelError, backtest

ENGLAND = HolidayCalendar("GB", "ENG")
EASTER_2011 = pd.date_range("2011-04-20", "2011-04-26")  # Good Friday 22nd, Easter Monday 25th


def _feature(kind: str, calendar: HolidayCalendar = ENGLAND) -> HolidayFeature:
    return next(f for f in [*calendar.features("D"), *calendar.features("W-SUN")] if f.__name__ == kind)


def test_flags_and_distances_around_easter_2011() -> None:
    assert list(_feature("holiday")(EASTER_2011)) == [0, 0, 1, 0, 0, 1, 0]
    assert list(_feature("days_to_holiday")(EASTER_2011)) == [2, 1, 0, 2, 1, 0, 3]  # 29th: royal wedding
    assert list(_feature("days_after_holiday")(EASTER_2011)) == [14, 14, 0, 1, 2, 0, 1]


def test_distances_reach_across_new_year() -> None:
    # New Year's Day 2012 is a Sunday, observed on Monday the 2nd; Christmas 2011 falls on a Sunday too.
    days = pd.date_range("2011-12-30", "2012-01-03")
    assert list(_feature("holiday")(days)) == [0, 0, 1, 1, 0]
    assert list(_feature("days_after_holiday")(days)) == [3, 4, 0, 0, 1]  # 27th: Christmas observed


def test_weekly_counts_and_frequencies() -> None:
    weeks = pd.date_range("2011-04-17", periods=4, freq="W-SUN")
    assert list(_feature("holidays_in_week")(weeks)) == [0, 1, 2, 1]
    assert [f.__name__ for f in ENGLAND.features("D")] == ["holiday", "days_to_holiday", "days_after_holiday"]
    assert [f.__name__ for f in ENGLAND.features("W-SUN")] == ["holidays_in_week"]
    assert ENGLAND.features(1) == [] and ENGLAND.features("h") == []


def test_calendars_differ_by_country_and_subdivision() -> None:
    st_andrews, july_fourth = pd.DatetimeIndex(["2011-11-30"]), pd.DatetimeIndex(["2011-07-04"])
    scotland = HolidayCalendar.parse("gb-sct")
    assert scotland == HolidayCalendar("GB", "SCT") and scotland.code == "GB-SCT"
    assert list(_feature("holiday", scotland)(st_andrews)) == [1]
    assert list(_feature("holiday")(st_andrews)) == [0]
    assert list(_feature("holiday", HolidayCalendar.parse("US"))(july_fourth)) == [1]


def test_unknown_codes_are_clear_errors() -> None:
    with pytest.raises(HolidayCalendarError, match="no holiday calendar for country 'XX'"):
        HolidayCalendar.parse("XX")
    with pytest.raises(HolidayCalendarError, match=r"GB has no subdivision 'ZZZ'; it has .*ENG"):
        HolidayCalendar.parse("GB-ZZZ")


def test_features_are_picklable_for_spark_workers() -> None:
    feature = _feature("days_to_holiday")
    copy = pickle.loads(pickle.dumps(feature))
    assert copy == feature and list(copy(EASTER_2011)) == list(feature(EASTER_2011))


def _closed_on_bank_holidays(skus: int = 10) -> Any:
    """Steady daily sales, none on bank holidays (the shop is shut), up to the week of 2011-08-29."""
    rng = np.random.default_rng(5)
    days = pd.date_range("2010-12-01", "2011-09-04", freq="D")
    open_days = 1 - _feature("holiday")(days)
    frames = [
        pd.DataFrame({"unique_id": f"sku{i}", "ds": days, "y": rng.poisson(20.0, len(days)) * open_days})
        for i in range(skus)
    ]
    return pd.concat(frames, ignore_index=True).astype({"y": float})


def test_lightgbm_with_holidays_learns_the_closure_from_past_holidays() -> None:
    demand = _closed_on_bank_holidays()
    plan = BacktestPlan(freq="D", season_lengths=(7,), horizon=7, windows=1, holidays=ENGLAND)
    holiday = pd.Timestamp("2011-08-29")  # the only bank holiday of the test week
    error = {}
    for model in ("lightgbm", "lightgbm_holidays"):
        run = backtest(model, demand, plan)
        assert (run["cutoff"] == pd.Timestamp("2011-08-28")).all()
        error[model] = run.loc[run["ds"] == holiday, "forecast"].abs().mean()  # the actual is 0
    assert error["lightgbm_holidays"] < 5.0 < error["lightgbm"]


def test_lightgbm_with_holidays_needs_a_calendar() -> None:
    plan = BacktestPlan(freq="D", season_lengths=(7,), horizon=7, windows=1)
    with pytest.raises(ModelError, match="needs the series' holiday calendar"):
        backtest("lightgbm_holidays", _closed_on_bank_holidays(2), plan)
