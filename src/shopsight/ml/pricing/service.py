"""Pricing over the published warehouse: the one entry point the CLI and the API share."""

from __future__ import annotations

from dataclasses import dataclass

from shopsight.ml.pricing.elasticity import PricingDataError, estimate_elasticities
from shopsight.ml.pricing.models import Elasticity, FlashSaleCandidate, Guardrails, PriceRecommendation
from shopsight.ml.pricing.optimize import flash_sale_candidates, recommend_price
from shopsight.ml.pricing.sources import warehouse_sales, warehouse_states
from shopsight.warehouse.reader import WarehouseReader


@dataclass(frozen=True)
class PricingReport:
    """Elasticities, price recommendations (largest expected margin gain first) and flash-sale candidates."""

    version: str
    elasticities: list[Elasticity]
    recommendations: list[PriceRecommendation]
    flash_sales: list[FlashSaleCandidate]


def price_warehouse(reader: WarehouseReader, rules: Guardrails | None = None) -> PricingReport:
    """Estimate elasticities from the warehouse's order lines and recommend a price per sold product."""
    rules = rules or Guardrails()
    with reader.current() as (version, tables):
        sales = warehouse_sales(tables)
        if sales.empty:
            raise PricingDataError("the warehouse has no sold order lines to learn prices from")
        states = warehouse_states(tables, sales)
    fits = estimate_elasticities(sales)
    recommendations = [
        recommend_price(states[f.product_id], f, rules) for f in fits if f.product_id in states
    ]
    recommendations.sort(key=lambda r: r.expected_margin - r.expected_margin_now, reverse=True)
    return PricingReport(version.version, fits, recommendations, flash_sale_candidates(sales))
