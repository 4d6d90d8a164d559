"""Price elasticity of demand per product, pooled per category where a product's price hardly moved.

Per product, on periodic sales (one row per product and period with the average price paid)::

    log(units) = a + e * log(price) + b * promo + annual seasonality (one Fourier pair) + trend

fitted by OLS with heteroskedasticity-robust (HC1) standard errors; ``e`` is the elasticity. Promotions
and seasonality are controlled for because both move demand together with price (a sale lowers the price
*and* is advertised; December lifts demand and discounts alike) and would otherwise be read as price
response. A product needs enough distinct prices to identify ``e``; the others get their category's
estimate, fitted with a fixed effect per product so that differences between products' levels are not
mistaken for a price effect. Periods without sales are left out (no log of zero), which is the usual
log-log choice and is stated here because it slightly understates elasticity for slow sellers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.errors import ShopSightError
from shopsight.ml.pricing.models import Elasticity, ElasticitySource

REQUIRED = ("product_id", "period", "price", "units")
Z95 = 1.959964


class PricingDataError(ShopSightError):
    """Sales the elasticity model cannot use, with the reason."""


@dataclass(frozen=True)
class Identification:
    """When a product's own history is enough to estimate its elasticity."""

    min_observations: int = 12
    min_price_points: int = 3
    min_log_price_std: float = 0.02  # about 2% typical price movement


def check_sales(sales: pd.DataFrame) -> pd.DataFrame:
    """Sales with positive price and units, typed; a clear error for missing columns or no rows."""
    missing = [c for c in REQUIRED if c not in sales.columns]
    if missing:
        raise PricingDataError(f"sales lack column(s) {', '.join(missing)}; need {', '.join(REQUIRED)}")
    frame = sales.copy()
    frame["product_id"] = frame["product_id"].astype(str)
    frame["period"] = pd.to_datetime(frame["period"])
    frame["promo"] = frame["promo"].astype(float) if "promo" in frame else 0.0
    if "category" not in frame:
        frame["category"] = None
    frame = frame[(frame["price"] > 0) & (frame["units"] > 0)]
    if frame.empty:
        raise PricingDataError("no sales with a positive price and positive units")
    return frame


def _design(frame: pd.DataFrame) -> pd.DataFrame:
    """Regressors shared by the product and the category models (without the price and fixed effects)."""
    day_of_year = frame["period"].dt.dayofyear.to_numpy(dtype=float)
    start = frame["period"].min()
    controls = pd.DataFrame(
        {
            "log_price": np.log(frame["price"].to_numpy(dtype=float)),
            "promo": frame["promo"].to_numpy(dtype=float),
            "season_sin": np.sin(2 * np.pi * day_of_year / 365.25),
            "season_cos": np.cos(2 * np.pi * day_of_year / 365.25),
            "trend": (frame["period"] - start).dt.days.to_numpy(dtype=float) / 365.25,
        },
        index=frame.index,
    )
    # A control that never varies (no promotions, under a year of data) carries no information.
    varying = [c for c in controls.columns if c == "log_price" or controls[c].std() > 1e-9]
    return controls[varying]


def _fit(y: np.ndarray, x: pd.DataFrame) -> tuple[float, float] | None:
    """(elasticity, robust standard error), or None when the fit is degenerate."""
    import statsmodels.api as sm  # type: ignore[import-untyped]  # here: 5 s to import, CLI start-up

    design = sm.add_constant(x, has_constant="add")
    if len(y) <= design.shape[1] + 1:
        return None
    result = sm.OLS(y, design).fit(cov_type="HC1")
    estimate, error = float(result.params["log_price"]), float(result.bse["log_price"])
    if not (np.isfinite(estimate) and np.isfinite(error)):
        return None
    return estimate, error


def _answer(product: str, category: str | None, fit: tuple[float, float], rows: pd.DataFrame,
            source: ElasticitySource) -> Elasticity:  # fmt: skip
    estimate, error = fit
    return Elasticity(
        product_id=product, category=category, elasticity=estimate, std_error=error,
        ci_low=estimate - Z95 * error, ci_high=estimate + Z95 * error, observations=len(rows),
        price_points=int(rows["price"].round(4).nunique()), source=source,
    )  # fmt: skip


def _identified(rows: pd.DataFrame, rule: Identification) -> bool:
    log_price = np.log(rows["price"].to_numpy(dtype=float))
    return (
        len(rows) >= rule.min_observations
        and rows["price"].round(4).nunique() >= rule.min_price_points
        and float(np.std(log_price)) >= rule.min_log_price_std
    )


def _by_product(frame: pd.DataFrame) -> Iterator[tuple[str, str | None, pd.DataFrame]]:
    for product, rows in frame.groupby("product_id", sort=True):
        categories = rows["category"].dropna()
        yield str(product), (str(categories.iloc[0]) if len(categories) else None), rows


def category_elasticity(rows: pd.DataFrame, rule: Identification) -> tuple[float, float] | None:
    """The pooled elasticity of a category's products, with one fixed effect per product; None when the
    category's prices moved too little (within products) to tell a price effect."""
    log_price = np.log(rows["price"].to_numpy(dtype=float))
    within = log_price - rows.assign(lp=log_price).groupby("product_id")["lp"].transform("mean").to_numpy()
    if len(rows) < rule.min_observations or float(np.std(within)) < rule.min_log_price_std:
        return None
    design = _design(rows)
    effects = pd.get_dummies(rows["product_id"], prefix="p", drop_first=True, dtype=float)
    return _fit(np.log(rows["units"].to_numpy(dtype=float)), pd.concat([design, effects], axis=1))


def estimate_elasticities(sales: pd.DataFrame, rule: Identification | None = None) -> list[Elasticity]:
    """One elasticity per product: its own when identified, else its category's, else none at all.

    ``sales``: one row per product and period with ``product_id``, ``period``, ``price`` (average paid),
    ``units`` and optionally ``promo`` (0/1 or share of the period on promotion) and ``category``.
    """
    rule = rule or Identification()
    frame = check_sales(sales)
    answers: list[Elasticity] = []
    pooled: dict[str, tuple[float, float] | None] = {}
    for product, category, rows in _by_product(frame):
        fit = (
            _fit(np.log(rows["units"].to_numpy(dtype=float)), _design(rows))
            if _identified(rows, rule)
            else None
        )
        if fit is not None:
            answers.append(_answer(product, category, fit, rows, ElasticitySource.product))
            continue
        if category is None:
            continue
        if category not in pooled:
            pooled[category] = category_elasticity(frame[frame["category"] == category], rule)
        category_fit = pooled[category]
        if category_fit is not None:
            answers.append(_answer(product, category, category_fit, rows, ElasticitySource.category))
    return answers
