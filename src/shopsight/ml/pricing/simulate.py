"""Weekly sales generated from known elasticities, to check that estimation recovers them.

Each product has a true constant elasticity, a base price changed now and then by a few percent,
promotions that cut the price *and* lift demand beyond the price effect, yearly seasonality, a trend and
multiplicative noise: the confounders the estimator has to control for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]


@dataclass(frozen=True)
class SimulatedMarket:
    """The sales and the truth they were generated from."""

    sales: pd.DataFrame  # product_id, category, period, price, units, promo
    elasticities: dict[str, float]
    promo_uplift: float  # log-demand lift of a promotion beyond its price cut


def simulate_sales(products: int = 40, weeks: int = 104, seed: int = 7, noise: float = 0.15,
                   promo_uplift: float = 0.4, steady_products: int = 0) -> SimulatedMarket:  # fmt: skip
    """``products`` with elasticities drawn from [-3, -0.5]; the last ``steady_products`` never change
    their price (their elasticity is only identifiable from their category)."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2023-01-02", periods=weeks, freq="W-MON")
    week = np.arange(weeks)
    season = 0.3 * np.sin(2 * np.pi * periods.dayofyear.to_numpy() / 365.25)
    frames, truth = [], {}
    for index in range(products):
        product = f"sku-{index:03d}"
        elasticity = float(rng.uniform(-3.0, -0.5))
        truth[product] = elasticity
        steady = index >= products - steady_products
        price = _price_path(rng, weeks, base=float(rng.uniform(5, 80)), steady=steady)
        promo = (rng.random(weeks) < 0.12).astype(float) * (0.0 if steady else 1.0)
        paid = price * (1 - 0.2 * promo)
        level = np.log(rng.uniform(40, 400)) + 0.1 * week / 52
        log_units = level + elasticity * np.log(paid / price[0]) + promo_uplift * promo + season
        units = np.exp(log_units + rng.normal(0, noise, weeks))
        frame = {"product_id": product, "category": f"cat-{index % 4}", "period": periods}
        frames.append(
            pd.DataFrame({**frame, "price": paid.round(2), "units": units.round(2), "promo": promo})
        )
    return SimulatedMarket(pd.concat(frames, ignore_index=True), truth, promo_uplift)


def _price_path(rng: np.random.Generator, weeks: int, base: float, steady: bool) -> np.ndarray:
    """A list price that changes by up to 15% every few weeks (never, for a steady product)."""
    price = np.full(weeks, base)
    if steady:
        return price
    current, week = base, 0
    while week < weeks:
        span = int(rng.integers(3, 9))
        price[week : week + span] = current
        current = base * float(rng.uniform(0.85, 1.15))
        week += span
    return price
