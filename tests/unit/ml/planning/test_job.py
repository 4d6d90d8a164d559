"""The planning job on a small demo warehouse: ordered intervals, replenishment by the policy, prices."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from shopsight.ml.planning.demand import FALLBACK
from shopsight.ml.planning.store import PLAN_TABLES, NoPlan, PlanInfo, PlanStore, plans_dir
from shopsight.platform import Platform

Planned = tuple[Platform, PlanInfo]


def _table(planned: Planned, name: str) -> Any:
    platform, info = planned
    return PlanStore(plans_dir(platform.settings)).read(info.run_id, name).to_pandas()


def test_the_run_is_stored_as_the_current_plan(planned: Planned) -> None:
    platform, info = planned
    store = PlanStore(plans_dir(platform.settings))
    assert store.current() == info
    assert info.rows == {name: store.read(info.run_id, name).num_rows for name in PLAN_TABLES}
    assert info.backtest_horizon >= 7 and info.plan_day > info.as_of and info.seconds > 0


def test_every_series_has_a_forecast_with_ordered_intervals(planned: Planned) -> None:
    _, info = planned
    forecast, series = _table(planned, "forecast"), _table(planned, "series")
    assert len(forecast) == len(series) * info.horizon
    assert forecast.groupby(["product_id", "location_id"]).size().eq(info.horizon).all()
    ordered = (
        (forecast["lo95"] <= forecast["lo80"])
        & (forecast["lo80"] <= forecast["mean"])
        & (forecast["mean"] <= forecast["hi80"])
        & (forecast["hi80"] <= forecast["hi95"])
    )
    assert ordered.all(), forecast[~ordered].head()
    assert (forecast["lo95"] >= 0).all()
    assert (forecast["hi95"] > forecast["hi80"]).any()  # some series have spread: the check is not vacuous
    # Too few sales in the backtest to choose by: the fallback keeps the long-run rate of the series' sales.
    sparse = series[(series["history_units"] > 0) & (series["backtest_sales_days"] < 2)]
    assert not sparse.empty and (sparse["model"] == FALLBACK).all() and (sparse["forecast_units"] > 0).all()


def test_the_forecast_totals_match_the_series_and_the_actuals_the_warehouse(planned: Planned) -> None:
    forecast, series, actuals = (_table(planned, n) for n in ("forecast", "series", "actuals"))
    totals = forecast.groupby(["product_id", "location_id"])["mean"].sum()
    listed = series.set_index(["product_id", "location_id"])["forecast_units"]
    pd.testing.assert_series_equal(totals.sort_index(), listed.sort_index(), check_names=False)
    recent = actuals.groupby(["product_id", "location_id"])["units"].sum()
    assert (
        recent.reindex(listed.index, fill_value=0)
        <= series.set_index(["product_id", "location_id"])["history_units"]
    ).all()


def test_replenishment_follows_the_policy(planned: Planned) -> None:
    risk, plan = _table(planned, "risk"), _table(planned, "replenishment")
    policy = risk.set_index(["product_id", "location_id"])
    needs = policy[
        (policy["inventory_position"] <= policy["reorder_point"])
        & (policy["order_up_to"] > policy["inventory_position"])
    ]
    assert not needs.empty  # the demo has SKUs at their reorder point
    assert (needs["status"] == "reorder").all()
    assert set(plan.groupby(["product_id", "location_id"]).groups) == set(needs.index)
    delivered = plan.groupby(["product_id", "location_id"])["quantity"].sum()
    wanted = needs["order_up_to"] - needs["inventory_position"]
    assert (delivered.reindex(needs.index) >= wanted.apply(lambda w: w - 1e-9)).all()
    purchases = plan[plan["kind"] == "purchase"]
    eoq = policy.loc[list(zip(purchases["product_id"], purchases["location_id"], strict=True)), "eoq"]
    assert (purchases["quantity"].to_numpy() >= eoq.to_numpy() - 1e-9).all()
    for transfer in plan[plan["kind"] == "transfer"].itertuples():
        giver = policy.loc[(transfer.product_id, transfer.source)]
        assert giver["inventory_position"] > giver["order_up_to"] + giver["eoq"]
    assert (pd.to_datetime(plan["arrives"]) > pd.to_datetime(plan["order_by"])).all()


def test_risk_rows_are_consistent(planned: Planned) -> None:
    risk = _table(planned, "risk")
    assert risk["stockout_risk"].between(0, 1).all()
    assert (risk.loc[risk["overstock"], "status"] == "overstock").all() or (
        risk.loc[risk["overstock"] & (risk["status"] != "overstock"), "status"] == "reorder"
    ).all()
    assert (risk["order_up_to"] >= risk["reorder_point"]).all()
    covered = risk.dropna(subset=["days_of_cover"])
    expected = covered["inventory_position"] / (covered["weekly_demand"] / 7)
    assert (covered["days_of_cover"] - expected).abs().max() < 1e-6


def test_price_suggestions_show_their_impact_and_drivers(planned: Planned) -> None:
    pricing = _table(planned, "pricing")
    assert not pricing.empty and pricing["drivers"].map(len).gt(0).all()
    revenue = pricing["recommended_price"] * pricing["units"]
    assert (pricing["revenue"] - revenue).abs().max() < 1e-6
    assert ((pricing["margin"] - pricing["margin_now"]) - pricing["margin_change"]).abs().max() < 1e-6
    marked = pricing[pricing["action"] == "markdown"]
    assert not marked.empty and (marked["recommended_price"] < marked["current_price"]).all()
    assert (marked["units"] > marked["units_now"]).all()
    held = pricing[pricing["action"] == "hold"]
    assert (held["recommended_price"] == held["current_price"]).all()
    assert list(pricing["action"] == "hold") == sorted(pricing["action"] == "hold")  # changes come first


def test_no_plan_before_the_first_run(tmp_path: Any) -> None:
    with pytest.raises(NoPlan, match="shopsight plan run"):
        PlanStore(tmp_path / "plans").current()
