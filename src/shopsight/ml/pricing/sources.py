"""Periodic sales for pricing: from the published warehouse, or from the shipped online-retail data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd  # type: ignore[import-untyped]

from shopsight.ml.pricing.elasticity import PricingDataError
from shopsight.ml.pricing.models import ProductState
from shopsight.ml.recommend.datasets import ONLINE_RETAIL_FILE, datasets_dir

RECENT_PERIODS = 8  # the demand at today's price is the average of the last eight weeks


@dataclass(frozen=True)
class PricingInputs:
    """Weekly sales per product and each product's current state."""

    sales: pd.DataFrame  # product_id, category, period, price, units, promo
    states: dict[str, ProductState]


def online_retail_sales(root: Path | None = None, top: int = 200) -> pd.DataFrame:
    """Weekly units and average paid price of the ``top`` stock codes by units (UCI Online Retail).

    Cancellations, non-positive quantities or prices and non-product codes (postage, fees, manual
    adjustments: codes that do not start with a digit) are left out; there is no promotion flag.
    """
    path = (root or datasets_dir()) / ONLINE_RETAIL_FILE
    if not path.is_file():
        raise PricingDataError(f"dataset file not found: {path} (set SHOPSIGHT_DATASETS)")
    raw = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str}, parse_dates=["InvoiceDate"])
    raw = raw[
        ~raw["InvoiceNo"].str.startswith("C")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
        & raw["StockCode"].str.match(r"^\d")
    ]
    chosen = raw.groupby("StockCode")["Quantity"].sum().nlargest(top).index
    raw = raw[raw["StockCode"].isin(chosen)].assign(
        period=raw["InvoiceDate"].dt.to_period("W-SUN").dt.start_time,
        paid=raw["Quantity"] * raw["UnitPrice"],
    )
    weekly = raw.groupby(["StockCode", "period"], as_index=False).agg(
        units=("Quantity", "sum"), paid=("paid", "sum")
    )
    return pd.DataFrame(
        {"product_id": weekly["StockCode"], "category": None, "period": weekly["period"],
         "price": weekly["paid"] / weekly["units"], "units": weekly["units"].astype(float), "promo": 0.0}
    )  # fmt: skip


def warehouse_sales(tables: dict[str, ir.Table]) -> pd.DataFrame:
    """Weekly units, average paid price and promotion share per product from the published warehouse."""
    for needed in ("fact_order_item", "dim_product"):
        if needed not in tables:
            raise PricingDataError(f"the published warehouse has no {needed}; run `shopsight warehouse run`")
    items, products = tables["fact_order_item"], tables["dim_product"]
    items = items.filter(items.quantity > 0)
    week = items.order_date.truncate("W")
    weekly = items.group_by(product_id=items.product_id, period=week).aggregate(
        units=items.quantity.sum().cast("float64"),
        paid=items.line_amount.sum(),
        promoted=ibis.ifelse(items.discount > 0, items.quantity, 0).sum().cast("float64"),
    )
    joined = weekly.left_join(products.select("product_id", "category"), "product_id")
    frame = joined.select(
        product_id=weekly.product_id, category=joined.category, period=weekly.period,
        price=weekly.paid / weekly.units, units=weekly.units, promo=weekly.promoted / weekly.units,
    ).to_pandas()  # fmt: skip
    return frame[frame["price"] > 0]


def warehouse_states(tables: dict[str, ir.Table], sales: pd.DataFrame) -> dict[str, ProductState]:
    """Each sold product's list price, cost, recent weekly demand and total available stock."""
    products = tables["dim_product"].select("product_id", "price", "cost").to_pandas()
    stock = _latest_stock(tables)
    recent = (
        sales.sort_values("period")
        .groupby("product_id")["units"]
        .apply(lambda u: u.tail(RECENT_PERIODS).mean())
    )
    states = {}
    for row in products.itertuples(index=False):
        product = str(row.product_id)
        if product not in recent.index or not (row.price and row.price > 0):
            continue
        states[product] = ProductState(
            product_id=product, current_price=float(row.price), unit_cost=float(row.cost or 0.0),
            base_units=float(recent[product]), stock=stock.get(product),
        )  # fmt: skip
    return states


def _latest_stock(tables: dict[str, ir.Table]) -> dict[str, float]:
    if "fact_inventory_daily" not in tables:
        return {}
    levels = tables["fact_inventory_daily"]
    last_day = levels.group_by(["product_id", "variant_id", "location_id"]).aggregate(
        stock_date=levels.stock_date.max()
    )
    latest = levels.semi_join(last_day, ["product_id", "variant_id", "location_id", "stock_date"])
    totals = latest.group_by("product_id").aggregate(available=latest.available.sum()).to_pandas()
    return {str(r.product_id): max(float(r.available), 0.0) for r in totals.itertuples(index=False)}
