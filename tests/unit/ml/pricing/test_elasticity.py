"""Elasticity estimation recovers known elasticities on generated data within its stated uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopsight.ml.pricing.elasticity import PricingDataError, estimate_elasticities
from shopsight.ml.pricing.models import ElasticitySource
from shopsight.ml.pricing.simulate import SimulatedMarket, simulate_sales


@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return simulate_sales(products=40, weeks=104, seed=7)


def test_95_percent_intervals_cover_the_true_elasticities(market: SimulatedMarket) -> None:
    fits = estimate_elasticities(market.sales)
    assert len(fits) == 40 and all(f.source is ElasticitySource.product for f in fits)
    covered = sum(f.ci_low <= market.elasticities[f.product_id] <= f.ci_high for f in fits)
    errors = [abs(f.elasticity - market.elasticities[f.product_id]) for f in fits]
    # 95% intervals: 38 of 40 expected; fewer than 35 would be a 1-in-100 event for calibrated intervals.
    assert covered >= 35, f"only {covered}/40 intervals cover the truth"
    assert float(np.mean(errors)) < 0.3
    # the stated uncertainty is honest: errors are about the size of the standard errors
    z = [abs(f.elasticity - market.elasticities[f.product_id]) / f.std_error for f in fits]
    assert 0.4 < float(np.median(z)) < 1.2


def test_promotions_left_uncontrolled_would_bias_the_estimates(market: SimulatedMarket) -> None:
    blind = estimate_elasticities(market.sales.drop(columns=["promo"]))
    covered = sum(f.ci_low <= market.elasticities[f.product_id] <= f.ci_high for f in blind)
    bias = np.mean([f.elasticity - market.elasticities[f.product_id] for f in blind])
    assert covered < 30 and bias < -0.3  # promo uplift read as price response: too elastic


def test_a_product_whose_price_never_moved_gets_its_category_estimate() -> None:
    market = simulate_sales(products=12, weeks=104, seed=3, steady_products=1)
    sales = market.sales.assign(category="one")
    # one shared elasticity, so the category's pooled estimate has a single truth to cover
    truth = -1.7
    sales["units"] = _resimulate(sales, truth, market.promo_uplift)
    fits = {f.product_id: f for f in estimate_elasticities(sales)}
    steady = fits["sku-011"]
    assert steady.source is ElasticitySource.category and steady.price_points == 1
    assert steady.ci_low <= truth <= steady.ci_high


def _resimulate(sales: pd.DataFrame, elasticity: float, uplift: float) -> pd.Series:
    rng = np.random.default_rng(1)
    first = sales.groupby("product_id")["price"].transform("first")
    log_units = 4 + elasticity * np.log(sales["price"] / first) + uplift * sales["promo"]
    return np.exp(log_units + rng.normal(0, 0.15, len(sales)))


def test_unusable_sales_are_refused_with_the_reason() -> None:
    with pytest.raises(PricingDataError, match="lack column"):
        estimate_elasticities(pd.DataFrame({"product_id": ["a"], "price": [1.0]}))
    empty = pd.DataFrame({"product_id": ["a"], "period": ["2024-01-01"], "price": [0.0], "units": [3.0]})
    with pytest.raises(PricingDataError, match="positive"):
        estimate_elasticities(empty)


def test_a_product_without_category_or_price_movement_gets_no_estimate() -> None:
    periods = pd.date_range("2024-01-01", periods=20, freq="W-MON")
    flat = pd.DataFrame({"product_id": "x", "period": periods, "price": 9.99, "units": 5.0})
    assert estimate_elasticities(flat) == []
