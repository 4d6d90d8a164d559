"""What the plan reads from the published warehouse: daily units per product x location, stock, products.

Order lines carry no location, so for planning each order ships from a fulfilment location (any location
that is not a shop) in its shipping country, else from the nearest one; distances are between the
reference cities of the time-zone database (a country's first zone, a location's own zone). The series are
every product x fulfilment location that sold or holds stock, each a complete daily calendar (zero on days
without sales) over at most the last ``HISTORY_DAYS`` days up to the plan's as-of day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.errors import ShopSightError
from shopsight.ml.pricing.elasticity import PricingDataError
from shopsight.ml.pricing.sources import warehouse_sales

NEEDED = ("fact_order_item", "fact_order", "dim_product", "dim_location", "fact_inventory_daily")
STORE_KIND = "store"
HISTORY_DAYS = 365
SYSTEM_ZONES = Path("/usr/share/zoneinfo/zone.tab")
EARTH_KM = 6371.0
Coordinates = tuple[float, float]


class PlanDataError(ShopSightError):
    """The warehouse lacks what the plan needs, with the reason."""


@dataclass(frozen=True)
class PlanInputs:
    """Everything the plan computes from, read once from one warehouse version."""

    version: str
    as_of: date
    demand: pd.DataFrame  # unique_id, product_id, location_id, ds, y: every day up to as_of
    stock: pd.DataFrame  # product_id, location_id, available: the latest level, every location
    products: pd.DataFrame  # product_id, title, category, price, cost, currency
    locations: pd.DataFrame  # location_id, name, kind, country, timezone, fulfils
    sales: pd.DataFrame  # weekly price and units per product (for the elasticities)


def series_id(product_id: str, location_id: str) -> str:
    """The id of one product x location series."""
    return f"{product_id}@{location_id}"


def read_inputs(version: str, tables: Mapping[str, ir.Table]) -> PlanInputs:
    """The plan's inputs from the published ``tables`` of warehouse ``version``."""
    missing = [name for name in NEEDED if name not in tables]
    if missing:
        raise PlanDataError(f"the published warehouse has no {', '.join(missing)}; rebuild it")
    lines = _order_lines(tables)
    if lines.empty:
        raise PlanDataError("the warehouse has no sold order lines to forecast demand from")
    stock = _latest_stock(tables["fact_inventory_daily"])
    locations = _locations(tables["dim_location"])
    as_of = max(lines["day"].max(), stock["stock_date"].max() if len(stock) else lines["day"].max())
    routes = fulfilment(locations, sorted(lines["country"].dropna().unique()))
    lines = lines.assign(location_id=lines["country"].map(routes).fillna(default_location(locations)))
    stock = stock.groupby(["product_id", "location_id"], as_index=False)["available"].sum()
    demand = daily_demand(lines, stock, locations, as_of.date())
    return PlanInputs(
        version=version, as_of=as_of.date(), demand=demand, stock=stock, products=_products(tables),
        locations=locations, sales=_weekly_sales(tables),
    )  # fmt: skip


def _order_lines(tables: Mapping[str, ir.Table]) -> pd.DataFrame:
    items, orders = tables["fact_order_item"], tables["fact_order"]
    sold = items.filter(items.quantity > 0)
    joined = sold.left_join(orders.select("order_id", "country"), "order_id")
    summed = joined.group_by(
        product_id=joined.product_id, country=joined.country, day=joined.order_date
    ).aggregate(units=joined.quantity.sum().cast("float64"))
    frame = summed.to_pandas()
    frame["day"] = pd.to_datetime(frame["day"])
    return frame[frame["product_id"].notna()]


def _latest_stock(levels: ir.Table) -> pd.DataFrame:
    keys = ["product_id", "variant_id", "location_id"]
    last_day = levels.group_by(keys).aggregate(stock_date=levels.stock_date.max())
    latest = levels.semi_join(last_day, [*keys, "stock_date"])
    frame = latest.select(
        *keys, "stock_date", available=ibis.greatest(latest.available, 0).cast("float64")
    ).to_pandas()
    frame["stock_date"] = pd.to_datetime(frame["stock_date"])
    return frame


def _locations(table: ir.Table) -> pd.DataFrame:
    frame = table.select("location_id", "name", "kind", "country", "timezone").to_pandas()
    frame = frame.sort_values("location_id", ignore_index=True)
    fulfils = frame["kind"].fillna("") != STORE_KIND
    return frame.assign(fulfils=fulfils if fulfils.any() else True)


def _products(tables: Mapping[str, ir.Table]) -> pd.DataFrame:
    products = tables["dim_product"]
    return products.select(
        "product_id", "title", category=products.category_l1, price=products.price.cast("float64"),
        cost=products.cost.cast("float64"), currency=products.currency,
    ).to_pandas()  # fmt: skip


def _weekly_sales(tables: Mapping[str, ir.Table]) -> pd.DataFrame:
    try:
        return warehouse_sales(dict(tables))
    except PricingDataError:
        return pd.DataFrame(columns=["product_id", "category", "period", "price", "units", "promo"])


def default_location(locations: pd.DataFrame) -> str:
    """Where orders without a usable country ship from: the first fulfilment location."""
    fulfilling = locations[locations["fulfils"]]
    if fulfilling.empty:
        raise PlanDataError("the warehouse has no locations to plan stock for")
    return str(fulfilling["location_id"].iloc[0])


def fulfilment(locations: pd.DataFrame, countries: list[str]) -> dict[str, str]:
    """The location each shipping country's orders come from: one in the country, else the nearest."""
    fulfilling = locations[locations["fulfils"]]
    countries_at, zones_at = zone_coordinates()
    sites = []
    for row in fulfilling.itertuples(index=False):
        where = zones_at.get(str(row.timezone)) or countries_at.get(str(row.country))
        sites.append((str(row.location_id), str(row.country), where))
    routes = {}
    for country in countries:
        local = [site for site, site_country, _ in sites if site_country == country]
        origin = countries_at.get(country)
        located = [(site, where) for site, _, where in sites if where is not None]
        if local:
            routes[country] = local[0]
        elif origin is not None and located:
            routes[country] = min(located, key=lambda item: distance_km(origin, item[1]))[0]
    return routes


def zone_coordinates() -> tuple[dict[str, Coordinates], dict[str, Coordinates]]:
    """(country code -> its first zone's city, zone name -> its city) from the time-zone database."""
    countries: dict[str, Coordinates] = {}
    zones: dict[str, Coordinates] = {}
    for line in _zone_table().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        where = parse_iso6709(parts[1])
        countries.setdefault(parts[0], where)
        zones[parts[2]] = where
    return countries, zones


def _zone_table() -> str:
    try:  # the tzdata package (a pandas dependency) ships the table; the system database is the fallback
        return resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return SYSTEM_ZONES.read_text("utf-8") if SYSTEM_ZONES.is_file() else ""


def parse_iso6709(text: str) -> Coordinates:
    """``+DDMM+DDDMM`` or ``+DDMMSS+DDDMMSS`` (zone.tab) as decimal degrees."""
    split = max(text.rfind("+"), text.rfind("-"))
    return _degrees(text[:split], 2), _degrees(text[split:], 3)


def _degrees(part: str, width: int) -> float:
    sign = -1.0 if part[0] == "-" else 1.0
    digits = part[1:]
    degrees, minutes = float(digits[:width]), float(digits[width : width + 2])
    seconds = float(digits[width + 2 : width + 4] or 0)
    return sign * (degrees + minutes / 60 + seconds / 3600)


def distance_km(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(h))


def daily_demand(
    lines: pd.DataFrame, stock: pd.DataFrame, locations: pd.DataFrame, as_of: date
) -> pd.DataFrame:
    """Units per series and day, zero-filled: every product x fulfilment location that sold or holds stock."""
    first = max(lines["day"].min().date(), as_of - timedelta(days=HISTORY_DAYS - 1))
    days = pd.date_range(first, as_of, freq="D")
    sold = lines[lines["day"] >= pd.Timestamp(first)]
    units = sold.groupby(["product_id", "location_id", "day"])["units"].sum()
    fulfilling = set(locations.loc[locations["fulfils"], "location_id"])
    held = stock[(stock["available"] > 0) & stock["location_id"].isin(fulfilling)]
    pairs = sorted(
        set(zip(lines["product_id"], lines["location_id"], strict=True))
        | set(zip(held["product_id"], held["location_id"], strict=True))
    )
    grid = pd.DataFrame(pairs, columns=["product_id", "location_id"])
    grid = grid.loc[grid.index.repeat(len(days))].reset_index(drop=True)
    grid["ds"] = np.tile(days.to_numpy(), len(pairs))
    sold = units.rename("y").reset_index().rename(columns={"day": "ds"})
    frame = grid.merge(sold, on=["product_id", "location_id", "ds"], how="left").fillna({"y": 0.0})
    frame["unique_id"] = frame["product_id"].astype(str) + "@" + frame["location_id"].astype(str)
    return frame[["unique_id", "product_id", "location_id", "ds", "y"]]
