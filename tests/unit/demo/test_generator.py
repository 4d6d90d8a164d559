"""The generated store: determinism, volume, funnels, seasonality, stock and entity shapes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import date, datetime
from statistics import mean
from typing import Any

import orjson
import pytest

from shopsight.demo import DemoConfig, generate
from shopsight.demo.behaviour import CUSTOM_EVENTS, ECOMMERCE_EVENTS
from shopsight.demo.orders import REVIEW_TEXT

Store = dict[str, list[dict[str, Any]]]
ENTITY_FIELDS = {
    "customer": {
        "customer_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "address",
        "country",
        "created_at",
        "segment",
        "accepts_marketing",
        "attributes",
    },
    "product": {
        "product_id",
        "sku",
        "title",
        "description",
        "brand",
        "category_path",
        "attributes",
        "price",
        "cost",
        "currency",
        "variants",
        "created_at",
        "active",
    },
    "order": {
        "order_id",
        "customer_id",
        "anonymous_id",
        "placed_at",
        "currency",
        "status",
        "status_history",
        "items",
        "payments",
        "shipping_address",
        "billing_address",
        "subtotal",
        "tax",
        "shipping",
        "discount",
        "total",
        "coupon",
        "channel",
        "country",
    },
    "inventory_level": {"product_id", "variant_id", "location_id", "on_hand", "reserved", "as_of"},
    "location": {"location_id", "name", "kind", "country", "region", "timezone"},
    "supplier": {"supplier_id", "name", "country", "lead_time_days_mean", "lead_time_days_std", "products"},
    "shipment": {
        "shipment_id",
        "order_id",
        "location_id",
        "carrier",
        "tracking_number",
        "shipped_at",
        "delivered_at",
        "status",
        "items",
    },
    "review": {
        "review_id",
        "product_id",
        "customer_id",
        "rating",
        "title",
        "body",
        "created_at",
        "verified_purchase",
    },
    "marketing_spend": {"day", "channel", "campaign", "cost", "currency", "impressions", "clicks"},
}
SMALL = DemoConfig(seed=7, events=3000, days=60)


def collect(config: DemoConfig) -> Store:
    store: Store = defaultdict(list)
    for item in generate(config):
        store[item.kind].append(item.data)
    return store


def digest(config: DemoConfig) -> str:
    h = hashlib.sha256()
    for item in generate(config):
        h.update(orjson.dumps([item.kind, item.data]))
    return h.hexdigest()


@pytest.fixture(scope="module")
def year() -> Store:
    return collect(DemoConfig(seed=42, events=20_000, days=366))


def tracks(store: Store, name: str) -> list[dict[str, Any]]:
    return [e for e in store["event"] if e.get("event") == name]


def test_same_seed_gives_identical_bytes_even_across_hash_seeds() -> None:
    here = digest(SMALL)
    assert digest(SMALL) == here
    assert digest(DemoConfig(seed=8, events=3000, days=60)) != here
    code = (
        "from shopsight.demo import DemoConfig; import sys; sys.path.insert(0, %r); "
        "from test_generator import digest; print(digest(DemoConfig(seed=7, events=3000, days=60)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code % os.path.dirname(__file__)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == here


@pytest.mark.parametrize(("events", "days"), [(2500, 30), (5000, 7)])
def test_event_count_lands_within_ten_percent(events: int, days: int) -> None:
    count = sum(1 for item in generate(DemoConfig(events=events, days=days)) if item.kind == "event")
    assert abs(count - events) <= events * 0.1


def test_yearly_target_within_tolerance(year: Store) -> None:
    assert abs(len(year["event"]) - 20_000) <= 2000


def test_events_look_like_segment_calls(year: Store) -> None:
    for event in year["event"]:
        assert event["type"] in ("track", "page", "identify")
        assert uuid.UUID(event["messageId"]).version == 4
        assert event["timestamp"].endswith("Z") and event["sentAt"] >= event["timestamp"]
        assert event.get("userId") or event.get("anonymousId")
        assert "library" in event["context"]
        if event["type"] == "track":
            assert all(key == key.lower() for key in event["properties"])
    browser = [e for e in year["event"] if "userAgent" in e["context"]]
    assert len(browser) > 0.9 * len(year["event"])
    for event in browser[:500]:
        assert {"ip", "userAgent", "page", "locale", "timezone", "device"} <= set(event["context"])
        assert {"url", "path", "referrer"} <= set(event["context"]["page"])
    campaigns = [e["context"]["campaign"] for e in browser if "campaign" in e["context"]]
    assert campaigns and all({"source", "medium", "name"} <= set(c) for c in campaigns)


def test_event_names_come_from_the_ecommerce_spec_or_are_custom(year: Store) -> None:
    names = {e["event"] for e in year["event"] if e["type"] == "track"}
    assert names <= ECOMMERCE_EVENTS | CUSTOM_EVENTS
    assert len(names & ECOMMERCE_EVENTS) >= 24


def test_orders_follow_the_checkout_funnel(year: Store) -> None:
    seen: dict[tuple[str, str], str] = {}
    for event in year["event"]:
        if event.get("event") in ("Checkout Started", "Payment Info Entered"):
            seen[(event["event"], event["properties"]["order_id"])] = event["timestamp"]
        if event.get("event") == "Order Completed" and "userAgent" in event["context"]:
            order_id = event["properties"]["order_id"]
            assert seen[("Checkout Started", order_id)] < event["timestamp"]
            assert seen[("Payment Info Entered", order_id)] < event["timestamp"]
    completed = {e["properties"]["order_id"] for e in tracks(year, "Order Completed")}
    assert completed == {o["order_id"] for o in year["order"]}


def test_identify_links_anonymous_id_to_user_id(year: Store) -> None:
    identifies = [e for e in year["event"] if e["type"] == "identify"]
    assert identifies and all(e["userId"] and e["anonymousId"] and e["traits"]["email"] for e in identifies)


def test_most_carts_are_abandoned(year: Store) -> None:
    carts = {e["properties"]["cart_id"] for e in tracks(year, "Product Added")}
    abandonment = 1 - len(year["order"]) / len(carts)
    assert 0.6 <= abandonment <= 0.85


def daily_events(store: Store) -> dict[date, int]:
    counts: dict[date, int] = defaultdict(int)
    for event in store["event"]:
        counts[date.fromisoformat(event["timestamp"][:10])] += 1
    return counts


def test_weekends_and_december_are_busier(year: Store) -> None:
    counts = {d: n for d, n in daily_events(year).items() if d.year == 2024}
    weekend = mean(n for d, n in counts.items() if d.weekday() >= 5)
    midweek = mean(n for d, n in counts.items() if d.weekday() <= 3)
    december = mean(n for d, n in counts.items() if d.month == 12)
    summer = mean(n for d, n in counts.items() if d.month in (6, 7, 8))
    assert weekend > 1.15 * midweek
    assert december > 1.4 * summer


def test_stock_outs_happen_but_nothing_out_of_stock_is_bought(year: Store) -> None:
    levels = year["inventory_level"]
    assert all(row["on_hand"] >= row["reserved"] >= 0 for row in levels)
    assert any(row["on_hand"] - row["reserved"] == 0 for row in levels)
    last_view: dict[tuple[str, str], bool] = {}
    out_of_stock_views = 0
    for event in year["event"]:
        name = event.get("event")
        if name == "Product Viewed":
            key = (event["anonymousId"], event["properties"]["product_id"])
            last_view[key] = event["properties"]["in_stock"]
            out_of_stock_views += not event["properties"]["in_stock"]
        elif name == "Product Added":
            assert last_view[(event["anonymousId"], event["properties"]["product_id"])] is True
    assert out_of_stock_views > 0


def test_entity_rows_have_exactly_the_agreed_fields(year: Store) -> None:
    for kind, fields in ENTITY_FIELDS.items():
        assert year[kind], kind
        for row in year[kind]:
            assert set(row) == fields, kind
    variant = year["product"][0]["variants"][0]
    assert set(variant) == {"variant_id", "sku", "title", "attributes", "price", "cost"}
    assert set(year["order"][0]["payments"][0]) == {
        "payment_id",
        "method",
        "amount",
        "currency",
        "card_number",
        "cvv",
        "status",
    }
    assert {c["country"] for c in year["customer"]} == {"US", "GB", "DE", "FR", "NL", "AU", "CA"}
    assert {o["currency"] for o in year["order"]} == {"USD", "GBP", "EUR", "AUD", "CAD"}


def test_orders_add_up_and_have_lifecycles(year: Store) -> None:
    statuses = {o["status"] for o in year["order"]}
    assert {"delivered", "refunded", "cancelled"} <= statuses
    for order in year["order"]:
        subtotal = round(sum(i["unit_price"] * i["quantity"] for i in order["items"]), 2)
        assert order["subtotal"] == pytest.approx(subtotal)
        assert order["payments"][0]["amount"] == order["total"]
        times = [step["at"] for step in order["status_history"]]
        assert times == sorted(times)
    refunded = {o["order_id"] for o in year["order"] if o["status"] == "refunded"}
    assert refunded == {e["properties"]["order_id"] for e in tracks(year, "Order Refunded")}
    shipped = {s["order_id"] for s in year["shipment"]}
    assert not shipped & {o["order_id"] for o in year["order"] if o["status"] == "cancelled"}


def test_reviews_match_their_rating_and_events(year: Store) -> None:
    for review in year["review"]:
        assert 1 <= review["rating"] <= 5
        assert review["title"] == REVIEW_TEXT[review["rating"]][0]
    assert {r["review_id"] for r in year["review"]} == {
        e["properties"]["review_id"] for e in tracks(year, "Product Reviewed")
    }


def test_marketing_spend_covers_every_utm_campaign(year: Store) -> None:
    spend = {(row["day"], row["campaign"]): row for row in year["marketing_spend"]}
    landings: dict[tuple[str, str], int] = defaultdict(int)
    for event in year["event"]:
        if event["type"] == "page" and "utm_campaign" in event["context"]["page"]["url"]:
            landings[(event["timestamp"][:10], event["context"]["campaign"]["name"])] += 1
    matched = sum(1 for key in landings if key in spend)
    assert matched >= 0.9 * len(landings)
    assert all(row["cost"] > 0 and row["impressions"] >= row["clicks"] for row in year["marketing_spend"])


def test_popularity_is_long_tailed(year: Store) -> None:
    views: dict[str, int] = defaultdict(int)
    for event in tracks(year, "Product Viewed"):
        views[event["properties"]["product_id"]] += 1
    ranked = sorted(views.values(), reverse=True)
    top_tenth = sum(ranked[: max(1, len(ranked) // 10)])
    assert top_tenth > 0.3 * sum(ranked)


def test_timestamps_are_within_the_period(year: Store) -> None:
    first, last = year["event"][0]["timestamp"], year["event"][-1]["timestamp"]
    assert datetime.fromisoformat(first[:-1]) >= datetime(2023, 12, 31)
    assert datetime.fromisoformat(last[:-1]) < datetime(2025, 1, 3)
