"""Stock: reservations cannot oversell; picks leave the shelf; restocks arrive after the lead time."""

from __future__ import annotations

from random import Random

from shopsight.demo.catalog import build_catalog
from shopsight.demo.inventory import Stock


def make_stock() -> tuple[Stock, str]:
    rng = Random(5)
    catalog = build_catalog(rng, product_count=60, days=100, created_before="2023-01-01T00:00:00.000Z")
    for product in catalog.products:
        product.supplier_id = "sup_004"  # 6 +- 2 days
    stock = Stock(catalog, expected_units=100, days=100, rng=rng)
    return stock, catalog.products[0].variants[0].variant_id


def test_reservations_never_oversell() -> None:
    stock, variant = make_stock()
    available = stock.available(variant, "loc_wh_us")
    assert stock.reserve(variant, "loc_wh_us", available)
    assert stock.available(variant, "loc_wh_us") == 0
    assert not stock.reserve(variant, "loc_wh_us", 1)
    stock.release(variant, "loc_wh_us", 1)
    assert stock.reserve(variant, "loc_wh_us", 1)


def test_picks_leave_the_shelf_and_restocks_arrive_later() -> None:
    stock, variant = make_stock()
    on_hand = stock.on_hand[(variant, "loc_wh_us")]
    assert stock.reserve(variant, "loc_wh_us", on_hand)
    stock.pick_on(1, variant, "loc_wh_us", on_hand)
    rows = stock.end_day(0, "2024-01-01T23:59:59.999Z", Random(1))
    assert any(r["variant_id"] == variant and r["reserved"] == on_hand for r in rows)
    stock.start_day(1)
    assert stock.on_hand[(variant, "loc_wh_us")] == 0
    stock.end_day(1, "2024-01-02T23:59:59.999Z", Random(1))
    arrived_on = None
    for day in range(2, 30):
        stock.start_day(day)
        if stock.available(variant, "loc_wh_us") > 0:
            arrived_on = day
            break
    assert arrived_on is not None and arrived_on >= 2
