"""The KPI marts of a tiny store equal the values worked out by hand.

The story (store time zone UTC, every amount in USD):

* 2024-03-04, A (browser a1, user u1) lands from a google / cpc ad on a phone in DE, sees and clicks the
  spring promotion, views p1, adds it, checks out and places o1 (2 x p1 at 50). B (b1) comes from a google
  search on a desktop in the US, sees the promotion without clicking, views and adds p2, and leaves.
* 2024-03-05, C (c1, user u2) comes direct on a desktop in the US, sees the summer promotion, views p2 and
  buys it at once (no cart add): o2, 3 x p2 at 20.
* Orders no session reported: o3 (u1, 2024-04-10, DE, email, 2 x p2 at 20, refunded), o4 (u3, 2024-04-12,
  FR, paid_search, p1 at 50 + p3 at 50) and o5 (u3, 2024-05-02, GB, email, p2 at 30).
* Spend: paid_search 30 (March) and 50 (April), email 10 (March) and 20 (April).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from shopsight.config import load_settings
from shopsight.engines import open_warehouse_engine
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.platform import Platform
from shopsight.warehouse.compare import read_table
from shopsight.warehouse.pipeline import run_pipeline

Row = dict[str, Any]
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def _visitor(anon: str, agent: str, country: str, **campaign: str) -> dict[str, Any]:
    """The context every call of one visitor carries."""
    context: dict[str, Any] = {"userAgent": agent, "location": {"country": country}}
    if campaign:
        context["campaign"] = campaign
    return context


def _track(
    event: str, at: str, anon: str, context: dict[str, Any], user: str | None = None, **props: Any
) -> Row:
    call: Row = {"type": "track", "event": event, "timestamp": at, "anonymousId": anon, "context": context,
                 "messageId": f"{anon}-{event}-{at}", "properties": props}  # fmt: skip
    if user:
        call["userId"] = user
    return call


def _page(at: str, anon: str, context: dict[str, Any], referrer: str = "") -> Row:
    page_context = {**context, "page": {"path": "/", "referrer": referrer}}
    return {"type": "page", "name": "Home", "timestamp": at, "anonymousId": anon, "context": page_context,
            "messageId": f"{anon}-page-{at}", "properties": {}}  # fmt: skip


A = _visitor("a1", PHONE, "DE", source="google", medium="cpc", name="brand")
B = _visitor("b1", DESKTOP, "US")
C = _visitor("c1", DESKTOP, "US")
SPRING = {"promotion_id": "promo_spring", "name": "Spring"}
SUMMER = {"promotion_id": "promo_summer", "name": "Summer"}
EVENTS = [
    _page("2024-03-04T10:00:00Z", "a1", A),
    _track("Promotion Viewed", "2024-03-04T10:01:00Z", "a1", A, **SPRING),
    _track("Promotion Clicked", "2024-03-04T10:02:00Z", "a1", A, **SPRING),
    _track("Product Viewed", "2024-03-04T10:05:00Z", "a1", A, product_id="p1"),
    _track("Product Added", "2024-03-04T10:06:00Z", "a1", A, product_id="p1", quantity=2),
    _track("Checkout Started", "2024-03-04T10:07:00Z", "a1", A, order_id="o1"),
    _track("Order Completed", "2024-03-04T10:08:00Z", "a1", A, "u1", order_id="o1", total=100),
    _page("2024-03-04T12:00:00Z", "b1", B, referrer="https://www.google.com/search?q=shirt"),
    _track("Promotion Viewed", "2024-03-04T12:01:00Z", "b1", B, **SPRING),
    _track("Product Viewed", "2024-03-04T12:02:00Z", "b1", B, product_id="p2"),
    _track("Product Added", "2024-03-04T12:03:00Z", "b1", B, product_id="p2", quantity=1),
    _page("2024-03-05T09:00:00Z", "c1", C),
    _track("Promotion Viewed", "2024-03-05T09:00:30Z", "c1", C, **SUMMER),
    _track("Product Viewed", "2024-03-05T09:01:00Z", "c1", C, product_id="p2"),
    _track("Checkout Started", "2024-03-05T09:02:00Z", "c1", C, order_id="o2"),
    _track("Order Completed", "2024-03-05T09:03:00Z", "c1", C, "u2", order_id="o2", total=60),
]


def _order(order_id: str, customer: str, at: str, lines: list[tuple[str, int, float]], **fields: Any) -> Row:
    items = [{"product_id": p, "quantity": q, "unit_price": price} for p, q, price in lines]
    total = sum(q * price for _p, q, price in lines)
    return {"order_id": order_id, "customer_id": customer, "placed_at": at, "currency": "USD",
            "status": "delivered", "total": total, "items": items, **fields}  # fmt: skip


ORDERS = [
    _order("o1", "u1", "2024-03-04T10:08:00Z", [("p1", 2, 50.0)], channel="paid_search", country="DE"),
    _order("o2", "u2", "2024-03-05T09:03:00Z", [("p2", 3, 20.0)], channel="direct", country="US"),
    _order(
        "o3",
        "u1",
        "2024-04-10T08:00:00Z",
        [("p2", 2, 20.0)],
        channel="email",
        country="DE",
        status="refunded",
    ),
    _order(
        "o4",
        "u3",
        "2024-04-12T08:00:00Z",
        [("p1", 1, 50.0), ("p3", 1, 50.0)],
        channel="paid_search",
        country="FR",
    ),
    _order("o5", "u3", "2024-05-02T08:00:00Z", [("p2", 1, 30.0)], channel="email", country="GB"),
]
PRODUCTS = [
    {"product_id": "p1", "title": "Mug", "category_path": ["Home", "Kitchen"]},
    {"product_id": "p2", "title": "Shirt", "category_path": ["Apparel", "Shirts"]},
    {"product_id": "p3", "title": "Vase", "category_path": ["Home", "Decor"]},
]
SPEND = [
    {"day": "2024-03-04", "channel": "paid_search", "campaign": "brand", "cost": 30.0},
    {"day": "2024-03-05", "channel": "email", "campaign": "digest", "cost": 10.0},
    {"day": "2024-04-01", "channel": "paid_search", "campaign": "brand", "cost": 50.0},
    {"day": "2024-04-02", "channel": "email", "campaign": "digest", "cost": 20.0},
]


def _load(platform: Platform, folder: Path) -> None:
    importer = Importer(platform, load_mapping("shopsight"))
    files = {"events": EVENTS, "orders": ORDERS, "products": PRODUCTS, "marketing_spend": SPEND}
    for name, rows in files.items():
        path = folder / f"{name}.ndjson"
        path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        report = importer.import_file(path)
        assert report.error is None and not report.rejected, report
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[Row]]]:
    """Every table the pipeline built from the store above, as rows."""
    home = tmp_path_factory.mktemp("marts")
    platform = Platform(load_settings(home=home / "home", log_group_commit_ms=0.0))
    try:
        _load(platform, home)
        engine = open_warehouse_engine(platform.settings, "duckdb")
        try:
            version = run_pipeline(platform.settings, platform.lake, engine).version
        finally:
            engine.close()
        yield {name: read_table(table.files).to_pylist() for name, table in version.tables.items()}
    finally:
        platform.close()


def _by(rows: list[Row], *key: str) -> dict[tuple[str, ...], Row]:
    """Rows by the string form of their key columns."""
    return {tuple(str(row[k]) for k in key): row for row in rows}


def _values(rows: dict[tuple[str, ...], Row], *columns: str) -> dict[tuple[str, ...], tuple[Any, ...]]:
    return {key: tuple(row[c] for c in columns) for key, row in rows.items()}


def test_channel_splits_sessions_by_source_and_orders_by_the_session_that_reported_them(
    marts: dict[str, list[Row]],
) -> None:
    rows = _by(marts["kpi_daily_by_channel"], "period", "source", "medium")
    assert set(rows) == {
        ("2024-03-04", "google", "cpc"), ("2024-03-04", "www.google.com", "organic"),
        ("2024-03-05", "(direct)", "(none)"), ("2024-04-10", "(no session)", "(no session)"),
        ("2024-04-12", "(no session)", "(no session)"), ("2024-05-02", "(no session)", "(no session)"),
    }  # fmt: skip
    paid = rows["2024-03-04", "google", "cpc"]
    assert (paid["sessions"], paid["users"], paid["new_users"], paid["orders"]) == (1, 1, 1, 1)
    assert paid["revenue"] == pytest.approx(100.0) and paid["conversion_rate"] == pytest.approx(1.0)
    organic = rows["2024-03-04", "www.google.com", "organic"]
    assert (organic["sessions"], organic["orders"], organic["revenue"]) == (1, 0, 0.0)
    assert organic["cart_abandonment_rate"] == pytest.approx(1.0) and organic["aov"] is None
    phone = rows["2024-04-10", "(no session)", "(no session)"]
    assert (phone["sessions"], phone["orders"], phone["revenue"], phone["conversion_rate"]) == (
        0,
        1,
        40.0,
        None,
    )


def test_device_and_country_splits(marts: dict[str, list[Row]]) -> None:
    devices = _by(marts["kpi_daily_by_device"], "period", "device_type")
    assert devices["2024-03-04", "mobile"]["orders"] == 1
    assert devices["2024-03-04", "desktop"]["sessions_abandoning_cart"] == 1
    assert devices["2024-03-05", "desktop"]["revenue"] == pytest.approx(60.0)
    assert devices["2024-04-12", "(no session)"]["revenue"] == pytest.approx(100.0)

    countries = _by(marts["kpi_daily_by_country"], "period", "country")
    assert sorted(countries) == [
        ("2024-03-04", "DE"), ("2024-03-04", "US"), ("2024-03-05", "US"), ("2024-04-10", "DE"),
        ("2024-04-12", "FR"), ("2024-05-02", "GB"),
    ]  # fmt: skip
    us = countries["2024-03-04", "US"]
    assert (us["sessions"], us["orders"], us["conversion_rate"]) == (1, 0, 0.0)
    de = countries["2024-04-10", "DE"]  # an order without traffic: counted by the order's country
    assert (de["sessions"], de["orders"], de["revenue"], de["conversion_rate"]) == (0, 1, 40.0, None)


def test_category_splits_count_orders_units_and_line_revenue(marts: dict[str, list[Row]]) -> None:
    rows = _by(marts["kpi_daily_by_category"], "period", "category_l1")
    assert _values(rows, "orders", "units", "item_revenue") == {
        ("2024-03-04", "Home"): (1, 2, 100.0),
        ("2024-03-05", "Apparel"): (1, 3, 60.0),
        ("2024-04-10", "Apparel"): (1, 2, 40.0),
        ("2024-04-12", "Home"): (1, 2, 100.0),  # p1 and p3 in one order
        ("2024-05-02", "Apparel"): (1, 1, 30.0),
    }


def test_top_products_rank_by_revenue_then_units_then_product_id(marts: dict[str, list[Row]]) -> None:
    april = sorted((r for r in marts["mart_top_products"] if str(r["period"]) == "2024-04-01"),
                   key=lambda r: r["rank"])  # fmt: skip
    # p1 and p3 tie on revenue (50) and units (1): the product id decides.
    assert [(r["rank"], r["product_id"], r["units"], r["item_revenue"]) for r in april] == [
        (1, "p1", 1, 50.0), (2, "p3", 1, 50.0), (3, "p2", 2, 40.0),
    ]  # fmt: skip
    march = _by(marts["mart_top_products"], "period", "product_id")
    assert march["2024-03-01", "p1"]["rank"] == 1 and march["2024-03-01", "p2"]["rank"] == 2
    assert (
        march["2024-03-01", "p1"]["title"] == "Mug" and march["2024-03-01", "p2"]["category_l1"] == "Apparel"
    )


def test_retention_cohorts_by_first_order_month(marts: dict[str, list[Row]]) -> None:
    rows = _by(marts["mart_retention_cohorts"], "cohort_month", "month_offset")
    columns = ("cohort_customers", "active_customers", "retention_rate", "revenue")
    summary = _values(rows, *columns, "repeat_customers_to_date", "repeat_rate_to_date")
    assert summary == {
        ("2024-03-01", "0"): (2, 2, 1.0, 160.0, 0, 0.0),  # u1 and u2
        ("2024-03-01", "1"): (2, 1, 0.5, 40.0, 1, 0.5),  # u1 orders again
        ("2024-03-01", "2"): (2, 0, 0.0, 0.0, 1, 0.5),  # nobody orders; u1 stays a repeat customer
        ("2024-04-01", "0"): (1, 1, 1.0, 100.0, 0, 0.0),  # u3
        ("2024-04-01", "1"): (1, 1, 1.0, 30.0, 1, 1.0),
    }
    assert str(rows["2024-03-01", "2"]["activity_month"]) == "2024-05-01"


def test_revenue_by_country_nets_refunds_in_the_order_country(marts: dict[str, list[Row]]) -> None:
    rows = _by(marts["mart_revenue_by_country"], "period", "country")
    assert set(rows) == {
        ("2024-03-01", "DE"), ("2024-03-01", "US"), ("2024-04-01", "DE"), ("2024-04-01", "FR"),
        ("2024-05-01", "GB"),
    }  # fmt: skip
    de = rows["2024-04-01", "DE"]  # o3 was refunded by status
    assert (de["orders"], de["revenue"], de["refunds"], de["net_revenue"]) == (1, 40.0, 40.0, 0.0)
    assert de["refund_rate"] == pytest.approx(1.0)
    assert rows["2024-04-01", "FR"]["aov"] == pytest.approx(100.0)


def test_cac_divides_channel_spend_by_customers_first_ordering_through_it(
    marts: dict[str, list[Row]],
) -> None:
    rows = _by(marts["mart_cac_by_channel"], "period", "channel")
    assert _values(rows, "marketing_spend", "new_customers", "cac") == {
        ("2024-03-01", "paid_search"): (30.0, 1, 30.0),  # u1
        ("2024-03-01", "email"): (10.0, 0, None),
        ("2024-03-01", "direct"): (0.0, 1, 0.0),  # u2: no spend, no cost
        ("2024-04-01", "paid_search"): (50.0, 1, 50.0),  # u3
        ("2024-04-01", "email"): (20.0, 0, None),  # o3 is u1's second order
    }  # o5 in May is u3's second order: May acquires nobody


def test_closed_funnel_counts_sessions_that_did_every_step_so_far(marts: dict[str, list[Row]]) -> None:
    rows = _by(marts["mart_funnel"], "period", "step_no")
    first_day = [rows["2024-03-04", str(n)] for n in range(1, 6)]
    assert [(r["step"], r["sessions"]) for r in first_day] == [
        ("session", 2), ("product_view", 2), ("cart", 2), ("checkout", 1), ("order", 1),
    ]  # fmt: skip
    assert [r["step_conversion_rate"] for r in first_day] == [None, 1.0, 1.0, 0.5, 1.0]
    assert [r["overall_conversion_rate"] for r in first_day] == [1.0, 1.0, 1.0, 0.5, 0.5]
    # C ordered without adding to cart: the closed funnel stops at the product view.
    second_day = [rows["2024-03-05", str(n)] for n in range(1, 6)]
    assert [r["sessions"] for r in second_day] == [1, 1, 0, 0, 0]
    assert [r["step_conversion_rate"] for r in second_day] == [None, 1.0, 0.0, None, None]


def test_promotion_ctr_per_promotion_and_day(marts: dict[str, list[Row]]) -> None:
    rows = _by(marts["mart_promotions"], "period", "promotion_id")
    columns = (
        "promotion_name",
        "promotion_views",
        "promotion_clicks",
        "viewers",
        "clickers",
        "promotion_ctr",
    )
    assert _values(rows, *columns) == {
        ("2024-03-04", "promo_spring"): ("Spring", 2, 1, 2, 1, 0.5),
        ("2024-03-05", "promo_summer"): ("Summer", 1, 0, 1, 0, 0.0),
    }


def test_the_dimension_marts_add_up_to_kpi_daily(marts: dict[str, list[Row]]) -> None:
    total = {c: sum(r[c] for r in marts["kpi_daily"]) for c in ("sessions", "orders", "revenue")}
    for name in ("kpi_daily_by_channel", "kpi_daily_by_device", "kpi_daily_by_country"):
        assert {c: sum(r[c] for r in marts[name]) for c in total} == pytest.approx(total), name
