"""KPIs of one slice (country, channel, device, category) of the hand-checkable store, worked out by hand.

The store of conftest (events, A's on a phone, and spend) with orders that carry a country and a
channel, and products in two categories: o1 (US, paid_search, mugs, 100 USD, partly refunded 40),
o2 (DE, email, plates, 200 EUR, cancelled), o3 (US, paid_search, plates, 30 USD, refunded by status).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from shopsight.engines import open_warehouse_engine
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.platform import Platform
from shopsight.warehouse.pipeline import run_pipeline
from shopsight.warehouse.reader import kpis
from shopsight.warehouse.slicing import KpiSlice, UnsliceableMetric
from shopsight.warehouse.store import PublishedVersion

from .conftest import EVENTS, SPEND, order

EUR, GBP = 1.082, 1.278
ORDERS = [
    {**order("o1", "u1", "2024-03-04T10:25:00Z", "USD", 100.0, "delivered"), "country": "US",
     "channel": "paid_search"},
    {**order("o2", "u2", "2024-03-05T15:00:00Z", "EUR", 200.0, "cancelled"), "country": "DE",
     "channel": "email", "items": [{"product_id": "p2", "quantity": 1, "unit_price": 200.0}]},
    {**order("o3", "u1", "2024-03-11T09:00:00Z", "USD", 30.0, "refunded"), "country": "US",
     "channel": "paid_search", "items": [{"product_id": "p2", "quantity": 1, "unit_price": 30.0}]},
]  # fmt: skip
PRODUCTS = [
    {"product_id": "p1", "title": "Mug", "category_path": ["Kitchen", "Mugs"]},
    {"product_id": "p2", "title": "Plate", "category_path": ["Dining", "Plates"]},
]
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
# Person A browses on a phone; B and C send no user agent.
EVENTS_WITH_DEVICE = [
    {**e, "context": {**e.get("context", {}), "userAgent": IPHONE}} if e.get("anonymousId") == "a1" else e
    for e in EVENTS
]
COMMERCE = ["orders", "revenue", "cancelled_revenue", "refunds", "net_revenue", "new_customers"]


@pytest.fixture
def version(platform: Platform, tmp_path: Path) -> PublishedVersion:
    importer = Importer(platform, load_mapping("shopsight"))
    files = tmp_path / "files"
    files.mkdir()
    for name, rows in (("events", EVENTS_WITH_DEVICE), ("orders", ORDERS), ("marketing_spend", SPEND),
                       ("products", PRODUCTS)):  # fmt: skip
        path = files / f"{name}.ndjson"
        path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        report = importer.import_file(path)
        assert report.error is None and not report.rejected, report
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        return run_pipeline(platform.settings, platform.lake, engine).version
    finally:
        engine.close()


def _periods(
    platform: Platform, version: PublishedVersion, metrics: list[str], grain: str, **where: str
) -> dict[str, dict[str, Any]]:
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        rows = kpis(engine, version, metrics, grain, where=KpiSlice(**where)).to_pylist()  # type: ignore[arg-type]
    finally:
        engine.close()
    return {row["period"].isoformat(): row for row in rows}


def _month(platform: Platform, version: PublishedVersion, metrics: list[str], **where: str) -> dict[str, Any]:
    months = _periods(platform, version, metrics, "month", **where)
    assert list(months) == ["2024-03-01"], months
    return months["2024-03-01"]


def test_country_slices_orders_and_their_refunds(platform: Platform, version: PublishedVersion) -> None:
    us = _month(platform, version, COMMERCE, country="US")
    assert (us["orders"], us["new_customers"]) == (2, 1)
    assert us["revenue"] == pytest.approx(130.0) and us["cancelled_revenue"] == pytest.approx(0.0)
    assert us["refunds"] == pytest.approx(40.0 + 30.0)  # o1's refund event, o3 refunded by status
    assert us["net_revenue"] == pytest.approx(60.0)
    de = _month(platform, version, COMMERCE, country="DE")
    assert (de["orders"], de["new_customers"], de["refunds"]) == (1, 1, 0.0)
    assert de["revenue"] == pytest.approx(200 * EUR) and de["net_revenue"] == pytest.approx(0.0)


def test_channel_slices_orders_and_ad_spend(platform: Platform, version: PublishedVersion) -> None:
    email = _month(platform, version, ["orders", "marketing_spend", "new_customers", "cac"], channel="email")
    assert (email["orders"], email["new_customers"]) == (1, 1)
    assert email["marketing_spend"] == pytest.approx(10 * GBP) and email["cac"] == pytest.approx(10 * GBP)
    paid = _month(platform, version, ["orders", "revenue", "cac"], channel="paid_search")
    assert (
        paid["orders"] == 2 and paid["revenue"] == pytest.approx(130.0) and paid["cac"] == pytest.approx(50)
    )


def test_category_keeps_orders_with_a_line_in_it(platform: Platform, version: PublishedVersion) -> None:
    dining = _month(platform, version, ["orders", "revenue", "refunds"], category="Dining")
    assert dining["orders"] == 2  # o2 and o3
    assert dining["revenue"] == pytest.approx(200 * EUR + 30.0) and dining["refunds"] == pytest.approx(30.0)


def test_new_customers_stay_first_ever_within_a_slice(platform: Platform, version: PublishedVersion) -> None:
    # u1's first order (o1, 4 March) is a mug; their plate order o3 (11 March) is in the Dining slice,
    # where u1 is a repeat customer, not a new one.
    dining = _periods(platform, version, ["orders", "new_customers", "repeat_purchase_rate"], "day",
                      category="Dining")  # fmt: skip
    assert dining["2024-03-11"]["orders"] == 1
    assert dining["2024-03-11"]["new_customers"] == 0
    assert dining["2024-03-11"]["repeat_purchase_rate"] == pytest.approx(1.0)
    assert dining["2024-03-05"]["new_customers"] == 1  # u2's first order


def test_device_slices_sessions_and_the_orders_they_reported(
    platform: Platform, version: PublishedVersion
) -> None:
    mobile = _month(platform, version, ["sessions", "users", "orders", "revenue"], device="mobile")
    assert (mobile["sessions"], mobile["users"]) == (2, 1)  # A's two sessions
    assert mobile["orders"] == 1 and mobile["revenue"] == pytest.approx(100.0)  # o1, completed in session 1
    desktop = _month(platform, version, ["sessions", "orders"], device="desktop")
    assert (desktop["sessions"], desktop["orders"]) == (0, 0)


@pytest.mark.parametrize(
    ("metric", "where", "why"),
    [
        ("sessions", {"channel": "email"}, "sessions cannot be filtered by channel"),
        ("conversion_rate", {"category": "Dining"}, "conversion_rate cannot be filtered by category"),
        ("marketing_spend", {"country": "US"}, "marketing_spend cannot be filtered by country"),
        ("cac", {"device": "mobile"}, "cac cannot be filtered by device"),
    ],
)
def test_a_metric_the_slice_cannot_split_is_refused(
    platform: Platform, version: PublishedVersion, metric: str, where: dict[str, str], why: str
) -> None:
    with pytest.raises(UnsliceableMetric, match=why):
        _month(platform, version, [metric], **where)


def test_a_total_over_a_range_counts_earlier_people_as_returning(
    platform: Platform, version: PublishedVersion
) -> None:
    engine = open_warehouse_engine(platform.settings, "duckdb")
    names = ["sessions", "new_users", "returning_users", "orders", "new_customers", "repeat_purchase_rate"]
    try:
        rows = kpis(engine, version, names, "total", date(2024, 3, 5), date(2024, 3, 11)).to_pylist()
    finally:
        engine.close()
    assert len(rows) == 1 and rows[0]["period"] == date(2024, 3, 5)
    total = rows[0]
    assert (total["sessions"], total["new_users"], total["returning_users"]) == (1, 1, 0)  # C, new on 5 March
    assert (total["orders"], total["new_customers"]) == (2, 1)  # o2 (u2 new), o3 (u1 first ordered 4 March)
    assert total["repeat_purchase_rate"] == pytest.approx(0.5)
