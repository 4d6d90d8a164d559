"""Price suggestions with their expected impact, from the plan's demand forecasts and stock.

A product's demand at today's price is its forecast weekly units (every location together) and its stock
every location's latest available units; the pricing module then maximizes expected weekly gross margin
under the guardrails, or marks down overstock. Elasticities come from the warehouse's weekly sales (the
product's own price history, else its category's). A product with neither gets ``PRIOR_ELASTICITY``, the
mean of Tellis' (1988) meta-analysis of price elasticities, with a standard error wide enough that its
95% interval includes zero: the optimizer then holds the price, and only an overstock markdown (which
needs a direction, not a precise figure) acts on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd  # type: ignore[import-untyped]

from shopsight.ml.pricing.elasticity import PricingDataError, estimate_elasticities
from shopsight.ml.pricing.models import (
    Elasticity,
    ElasticitySource,
    Guardrails,
    PriceAction,
    PriceRecommendation,
    ProductState,
)
from shopsight.ml.pricing.optimize import recommend_price

PRIOR_ELASTICITY = -1.76
PRIOR_STD_ERROR = 1.0
Z95 = 1.959964


def prior(product_id: str, category: str | None) -> Elasticity:
    """The assumed elasticity of a product whose prices never moved enough to estimate one."""
    return Elasticity(
        product_id=product_id, category=category, elasticity=PRIOR_ELASTICITY, std_error=PRIOR_STD_ERROR,
        ci_low=PRIOR_ELASTICITY - Z95 * PRIOR_STD_ERROR, ci_high=PRIOR_ELASTICITY + Z95 * PRIOR_STD_ERROR,
        observations=0, price_points=0, source=ElasticitySource.prior,
    )  # fmt: skip


def _fits(sales: pd.DataFrame) -> dict[str, Elasticity]:
    if sales.empty:
        return {}
    try:
        return {fit.product_id: fit for fit in estimate_elasticities(sales)}
    except PricingDataError:
        return {}


def _number(value: Any) -> float:
    return float(value) if value is not None and not pd.isna(value) else 0.0


def price_suggestions(
    products: pd.DataFrame, sales: pd.DataFrame, weekly_units: Mapping[str, float],
    stock: Mapping[str, float], rules: Guardrails,
) -> pd.DataFrame:  # fmt: skip
    """One suggestion per priced product that sells or holds stock, the largest margin gain first."""
    fits = _fits(sales)
    rows = []
    for product in products.itertuples(index=False):
        product_id, price = str(product.product_id), _number(product.price)
        base, held = weekly_units.get(product_id, 0.0), stock.get(product_id, 0.0)
        if price <= 0 or (base <= 0 and held <= 0):
            continue
        state = ProductState(
            product_id=product_id, current_price=price, unit_cost=max(_number(product.cost), 0.0),
            base_units=base, stock=held,
        )  # fmt: skip
        category = None if pd.isna(product.category) else str(product.category)
        fit = fits.get(product_id) or prior(product_id, category)
        rows.append(_row(recommend_price(state, fit, rules), product, fit))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    held = frame.assign(held=frame["action"] == PriceAction.hold.value)  # price changes first
    ordered = held.sort_values(["held", "margin_change", "product_id"], ascending=[True, False, True])
    return ordered.drop(columns="held").reset_index(drop=True)


COLUMNS = [
    "product_id", "title", "category", "currency", "action", "current_price", "recommended_price", "change",
    "elasticity", "elasticity_low", "elasticity_high", "elasticity_source", "units_now", "units",
    "revenue_now", "revenue", "margin_now", "margin", "margin_change", "margin_low", "margin_high",
    "binding", "drivers",
]  # fmt: skip


def _row(suggestion: PriceRecommendation, product: Any, fit: Elasticity) -> dict[str, Any]:
    revenue_now = suggestion.current_price * suggestion.expected_units_now
    return {
        "product_id": suggestion.product_id, "title": product.title,
        "category": None if pd.isna(product.category) else product.category, "currency": product.currency,
        "action": suggestion.action.value, "current_price": suggestion.current_price,
        "recommended_price": suggestion.recommended_price, "change": suggestion.change,
        "elasticity": suggestion.elasticity, "elasticity_low": suggestion.elasticity_ci[0],
        "elasticity_high": suggestion.elasticity_ci[1], "elasticity_source": fit.source.value,
        "units_now": suggestion.expected_units_now, "units": suggestion.expected_units,
        "revenue_now": revenue_now, "revenue": suggestion.recommended_price * suggestion.expected_units,
        "margin_now": suggestion.expected_margin_now, "margin": suggestion.expected_margin,
        "margin_change": _finite(suggestion.expected_margin - suggestion.expected_margin_now),
        "margin_low": suggestion.margin_range[0], "margin_high": suggestion.margin_range[1],
        "binding": list(suggestion.binding), "drivers": list(suggestion.drivers),
    }  # fmt: skip


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0
