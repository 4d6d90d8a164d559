"""KPIs of the hand-checkable store equal the values worked out by hand (see conftest for the story)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shopsight.engines import open_warehouse_engine
from shopsight.platform import Platform
from shopsight.warehouse.pipeline import run_pipeline
from shopsight.warehouse.reader import UnknownMetric, kpis
from shopsight.warehouse.store import PublishedVersion
from shopsight.warehouse.transforms.kpis import METRICS

EUR = 1.082  # USD per EUR in the shipped 2024 FX row
GBP = 1.278


@pytest.fixture
def version(hand_store: Platform) -> PublishedVersion:
    engine = open_warehouse_engine(hand_store.settings, "duckdb")
    try:
        return run_pipeline(hand_store.settings, hand_store.lake, engine).version
    finally:
        engine.close()


def _kpis(platform: Platform, version: PublishedVersion, grain: str, **kw: Any) -> dict[str, dict[str, Any]]:
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        names = [m.name for m in METRICS]
        rows = kpis(engine, version, names, grain, **kw).to_pylist()  # type: ignore[arg-type]
    finally:
        engine.close()
    return {row["period"].isoformat(): row for row in rows}


def test_daily_kpis_match_the_hand_computed_values(hand_store: Platform, version: PublishedVersion) -> None:
    days = _kpis(hand_store, version, "day")
    assert sorted(days) == ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-11"]
    first = days["2024-03-04"]
    assert first["sessions"] == 3  # A twice (65 idle minutes), B once
    assert first["users"] == 2 and first["new_users"] == 2  # A stitched to u1 through identify
    assert first["orders"] == 1 and first["revenue"] == pytest.approx(100.0)
    assert first["aov"] == pytest.approx(100.0)
    assert first["conversion_rate"] == pytest.approx(1 / 3)
    assert first["cart_abandonment_rate"] == pytest.approx(0.5)  # B added and left, A ordered
    assert first["view_to_cart_rate"] == pytest.approx(1.0)
    assert first["checkout_to_order_rate"] == pytest.approx(1.0)
    assert first["new_customers"] == 1 and first["marketing_spend"] == pytest.approx(50.0)
    assert first["cac"] == pytest.approx(50.0)

    second = days["2024-03-05"]
    assert second["sessions"] == 1 and second["conversion_rate"] == pytest.approx(0.0)
    assert second["revenue"] == pytest.approx(200 * EUR)  # a cancelled order was still placed
    assert second["cancelled_revenue"] == pytest.approx(200 * EUR)
    assert second["net_revenue"] == pytest.approx(0.0)
    assert second["cart_abandonment_rate"] is None  # no cart, no rate
    assert second["cac"] == pytest.approx(10 * GBP)

    assert days["2024-03-06"]["refunds"] == pytest.approx(40.0)
    assert days["2024-03-06"]["net_revenue"] == pytest.approx(-40.0)
    last = days["2024-03-11"]
    assert last["revenue"] == pytest.approx(30.0) and last["refunds"] == pytest.approx(30.0)
    assert last["repeat_purchase_rate"] == pytest.approx(1.0) and last["new_customers"] == 0


def test_weeks_and_months_recount_rather_than_add_up(hand_store: Platform, version: PublishedVersion) -> None:
    weeks = _kpis(hand_store, version, "week")
    assert sorted(weeks) == ["2024-03-04", "2024-03-11"]  # ISO weeks start on Monday
    week = weeks["2024-03-04"]
    assert week["sessions"] == 4 and week["users"] == 3
    assert week["orders"] == 2 and week["revenue"] == pytest.approx(100 + 200 * EUR)
    assert week["aov"] == pytest.approx((100 + 200 * EUR) / 2)
    assert week["net_revenue"] == pytest.approx(100 - 40)
    month = _kpis(hand_store, version, "month")["2024-03-01"]
    assert month["orders"] == 3 and month["customers"] == 2 and month["new_customers"] == 2
    assert month["repeat_purchase_rate"] == pytest.approx(0.0)  # u1's first order is in the same month
    assert month["net_revenue"] == pytest.approx(100 + 200 * EUR + 30 - 200 * EUR - 40 - 30)
    assert month["refund_rate"] == pytest.approx(70 / (130 + 200 * EUR))


def test_date_range_limits_the_periods(hand_store: Platform, version: PublishedVersion) -> None:
    days = _kpis(hand_store, version, "day", start=date(2024, 3, 5), end=date(2024, 3, 6))
    assert sorted(days) == ["2024-03-05", "2024-03-06"]


def test_an_unknown_metric_is_a_clear_error(hand_store: Platform, version: PublishedVersion) -> None:
    engine = open_warehouse_engine(hand_store.settings, "duckdb")
    try:
        with pytest.raises(UnknownMetric, match=r"unknown metric.*revnue"):
            kpis(engine, version, ["revnue"], "day")
    finally:
        engine.close()
