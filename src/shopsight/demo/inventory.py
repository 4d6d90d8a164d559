"""Locations, suppliers and stock: reservations at checkout, picking at shipment, restocks with lead times."""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random
from typing import Any

from shopsight.demo.catalog import Catalog

StockKey = tuple[str, str]  # (variant_id, location_id)


@dataclass(frozen=True)
class Location:
    """A place that holds stock."""

    location_id: str
    name: str
    kind: str
    country: str
    region: str
    timezone: str
    demand_share: float

    def to_row(self) -> dict[str, Any]:
        """The ``location`` entity row."""
        return {
            "location_id": self.location_id,
            "name": self.name,
            "kind": self.kind,
            "country": self.country,
            "region": self.region,
            "timezone": self.timezone,
        }


LOCATIONS: tuple[Location, ...] = (
    Location("loc_wh_us", "Newark Fulfilment Center", "warehouse", "US", "NJ", "America/New_York", 0.5),
    Location("loc_wh_eu", "Venlo European DC", "dc", "NL", "LI", "Europe/Amsterdam", 0.25),
    Location("loc_dc_gb", "Daventry UK DC", "dc", "GB", "ENG", "Europe/London", 0.15),
    Location("loc_wh_au", "Sydney Warehouse", "warehouse", "AU", "NSW", "Australia/Sydney", 0.10),
    Location("loc_store_nyc", "SoHo Flagship Store", "store", "US", "NY", "America/New_York", 0.0),
)
# Which location ships online orders to a country.
FULFILMENT = {
    "US": "loc_wh_us",
    "CA": "loc_wh_us",
    "GB": "loc_dc_gb",
    "DE": "loc_wh_eu",
    "FR": "loc_wh_eu",
    "NL": "loc_wh_eu",
    "AU": "loc_wh_au",
}


@dataclass(frozen=True)
class Supplier:
    """Who makes what, and how long restocks take."""

    supplier_id: str
    name: str
    country: str
    lead_time_days_mean: float
    lead_time_days_std: float
    categories: tuple[str, ...]


SUPPLIERS: tuple[Supplier, ...] = (
    Supplier("sup_001", "Porto Textiles", "PT", 12, 3, ("Apparel",)),
    Supplier("sup_002", "Saigon Apparel Works", "VN", 28, 7, ("Apparel", "Footwear")),
    Supplier("sup_003", "Shenzhen Audio Tech", "CN", 35, 10, ("Electronics",)),
    Supplier("sup_004", "Bavaria Haushalt", "DE", 6, 2, ("Home",)),
    Supplier("sup_005", "Pacific Outdoor Supply", "US", 9, 3, ("Footwear", "Sports")),
    Supplier("sup_006", "Lumiere Cosmetiques", "FR", 10, 2, ("Beauty",)),
    Supplier("sup_007", "Ningbo Home Goods", "CN", 30, 8, ("Home",)),
    Supplier("sup_008", "Oregon Active", "US", 7, 2, ("Sports",)),
)


def assign_suppliers(catalog: Catalog, rng: Random) -> list[dict[str, Any]]:
    """Give every product a supplier of its category; return the ``supplier`` entity rows."""
    members: dict[str, list[str]] = {s.supplier_id: [] for s in SUPPLIERS}
    for product in catalog.products:
        options = [s for s in SUPPLIERS if product.leaf.top in s.categories]
        supplier = rng.choice(options)
        product.supplier_id = supplier.supplier_id
        members[supplier.supplier_id].append(product.product_id)
    return [
        {
            "supplier_id": s.supplier_id,
            "name": s.name,
            "country": s.country,
            "lead_time_days_mean": s.lead_time_days_mean,
            "lead_time_days_std": s.lead_time_days_std,
            "products": members[s.supplier_id],
        }
        for s in SUPPLIERS
    ]


@dataclass
class _Policy:
    reorder_point: int
    order_up_to: int
    lead_mean: float
    lead_std: float


class Stock:
    """On-hand and reserved units per (variant, location), replenished from suppliers.

    Checkout reserves units; they leave ``on_hand`` on the ship day. When nothing is available the
    variant cannot be bought there until a restock arrives.
    """

    def __init__(self, catalog: Catalog, *, expected_units: float, days: int, rng: Random) -> None:
        self.on_hand: dict[StockKey, int] = {}
        self.reserved: dict[StockKey, int] = {}
        self._policy: dict[StockKey, _Policy] = {}
        self._product_of: dict[str, str] = {}
        self._arrivals: dict[int, list[tuple[StockKey, int]]] = {}
        self._picks: dict[int, list[tuple[StockKey, int]]] = {}
        self._on_order: dict[StockKey, bool] = {}
        self._touched: dict[StockKey, None] = {}
        self._stock_up(catalog, expected_units, days, rng)

    def _stock_up(self, catalog: Catalog, expected_units: float, days: int, rng: Random) -> None:
        total_popularity = sum(p.popularity for p in catalog.products if p.active)
        leads = {s.supplier_id: (s.lead_time_days_mean, s.lead_time_days_std) for s in SUPPLIERS}
        for product in catalog.products:
            lead_mean, lead_std = leads[product.supplier_id]
            per_variant = (
                expected_units * product.popularity / total_popularity / len(product.variants) / days
            )
            careless = rng.random() < 0.2  # some buyers under-order: these products stock out
            for variant in product.variants:
                self._product_of[variant.variant_id] = product.product_id
                for location in LOCATIONS:
                    self._stock_variant(
                        variant.variant_id, location, per_variant, careless, (lead_mean, lead_std), rng
                    )

    def _stock_variant(
        self,
        variant_id: str,
        location: Location,
        per_variant: float,
        careless: bool,
        lead: tuple[float, float],
        rng: Random,
    ) -> None:
        key = (variant_id, location.location_id)
        if location.kind == "store":
            self.on_hand[key] = rng.randrange(0, 6)
            self.reserved[key] = 0
            return
        daily = per_variant * location.demand_share
        cover = rng.uniform(2, 10) if careless else rng.uniform(15, 45)
        safety = 0.0 if careless else rng.uniform(3, 10)
        reorder_point = math.ceil(daily * (lead[0] * (0.3 if careless else 1.0) + safety))
        self.on_hand[key] = max(1, round(daily * cover))
        self.reserved[key] = 0
        self._policy[key] = _Policy(
            reorder_point, reorder_point + max(2, math.ceil(daily * rng.uniform(20, 45))), lead[0], lead[1]
        )

    def product_of(self, variant_id: str) -> str:
        """The product a variant belongs to."""
        return self._product_of[variant_id]

    def available(self, variant_id: str, location_id: str) -> int:
        """Units that can still be sold at a location."""
        key = (variant_id, location_id)
        return self.on_hand.get(key, 0) - self.reserved.get(key, 0)

    def reserve(self, variant_id: str, location_id: str, quantity: int) -> bool:
        """Hold units for an order; False (and nothing held) when not enough are available."""
        if self.available(variant_id, location_id) < quantity:
            return False
        key = (variant_id, location_id)
        self.reserved[key] += quantity
        self._touched[key] = None
        return True

    def release(self, variant_id: str, location_id: str, quantity: int) -> None:
        """Give back a reservation (the order was cancelled before shipping)."""
        key = (variant_id, location_id)
        self.reserved[key] -= quantity
        self._touched[key] = None

    def pick_on(self, day: int, variant_id: str, location_id: str, quantity: int) -> None:
        """Schedule reserved units to leave the shelf on ``day`` (the ship day)."""
        self._picks.setdefault(day, []).append(((variant_id, location_id), quantity))

    def start_day(self, day: int) -> None:
        """Book restocks arriving and picks shipping today."""
        for key, quantity in self._arrivals.pop(day, []):
            self.on_hand[key] += quantity
            self._on_order[key] = False
            self._touched[key] = None
        for key, quantity in self._picks.pop(day, []):
            self.on_hand[key] -= quantity
            self.reserved[key] -= quantity
            self._touched[key] = None

    def end_day(self, day: int, as_of: str, rng: Random) -> list[dict[str, Any]]:
        """Reorder what fell below its reorder point; return ``inventory_level`` rows of changed stock."""
        rows = []
        for key in self._touched:
            self._maybe_reorder(day, key, rng)
            rows.append(self._row(key, as_of))
        self._touched.clear()
        return rows

    def _maybe_reorder(self, day: int, key: StockKey, rng: Random) -> None:
        policy = self._policy.get(key)
        if policy is None or self._on_order.get(key):
            return
        position = self.on_hand[key] - self.reserved[key]
        if position > policy.reorder_point:
            return
        lead = max(1, round(rng.gauss(policy.lead_mean, policy.lead_std)))
        self._arrivals.setdefault(day + lead, []).append((key, policy.order_up_to - position))
        self._on_order[key] = True

    def snapshot(self, as_of: str) -> list[dict[str, Any]]:
        """Rows for every (variant, location): the opening stock."""
        return [self._row(key, as_of) for key in self.on_hand]

    def _row(self, key: StockKey, as_of: str) -> dict[str, Any]:
        variant_id, location_id = key
        return {
            "product_id": self._product_of[variant_id],
            "variant_id": variant_id,
            "location_id": location_id,
            "on_hand": self.on_hand[key],
            "reserved": self.reserved[key],
            "as_of": as_of,
        }
