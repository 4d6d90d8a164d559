"""Stock policy per SKU x location from a demand distribution, a lead time and a target fill rate.

Demand over the protection interval (lead time plus review period) is represented by samples of the
forecast distribution: damped-trend point forecasts plus resampled past forecast errors, summed over a
lead time drawn from the supplier's distribution. Samples carry the real shape of e-commerce demand
(intermittent, skewed) that a normal approximation misses.
The order-up-to level ``S`` is the smallest level whose expected shortage per review period is at most
``(1 - fill_rate)`` of the period's expected demand (the fill-rate, or beta-service, definition):
shortage per period ~= E[(D_{L+R} - S)+] - E[(D_L - S)+].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shopsight.errors import ShopSightError


class InventoryError(ShopSightError):
    """Inputs a stock policy cannot be computed from, with the reason."""


class LeadTime(BaseModel):
    """Supplier lead time in periods: its mean and standard deviation."""

    model_config = ConfigDict(frozen=True)

    mean: float = Field(gt=0)
    std: float = Field(0.0, ge=0)


class Costs(BaseModel):
    """What holding and ordering cost: per unit per period, and per order."""

    model_config = ConfigDict(frozen=True)

    holding_per_unit: float = Field(gt=0)
    ordering_per_order: float = Field(ge=0)


class StockPolicy(BaseModel):
    """The computed policy of one SKU x location."""

    sku: str
    location: str
    mean_demand: float  # per period
    safety_stock: float
    reorder_point: float
    order_up_to: float
    eoq: float
    fill_rate_target: float


@dataclass(frozen=True)
class DemandForecast:
    """Point forecasts of the next periods plus the one-step errors the forecaster made in the past.

    Sampling adds resampled past errors to the point forecasts (floored at zero), so the distribution keeps
    the real, skewed and intermittent shape of the errors instead of assuming a normal one.
    """

    means: np.ndarray  # forecast of period 1, 2, ... ahead
    residuals: np.ndarray

    def samples(self, lead: LeadTime, extra: int, rng: np.random.Generator, draws: int = 4000) -> np.ndarray:
        """Samples of total demand over a lead time drawn from ``lead`` plus ``extra`` periods."""
        lengths = np.maximum(np.rint(rng.normal(lead.mean, lead.std, draws)), 0).astype(int) + extra
        span = min(max(int(lengths.max()), 1), self.means.size)
        errors = self.residuals[rng.integers(0, self.residuals.size, (draws, span))]
        demand = np.maximum(self.means[None, :span] + errors, 0.0)
        return np.asarray((demand * (np.arange(span)[None, :] < lengths[:, None])).sum(axis=1), dtype=float)


def damped_holt(history: np.ndarray, horizon: int = 26, alpha: float = 0.3, beta: float = 0.1,
                phi: float = 0.9, error_window: int = 26) -> DemandForecast:  # fmt: skip
    """Damped-trend exponential smoothing: follows a rising or falling level without running away."""
    history = np.asarray(history, dtype=float)
    if history.size == 0:
        raise InventoryError("no demand history to size stock from")
    level, trend = float(history[: min(4, history.size)].mean()), 0.0
    residuals = []
    for actual in history:
        residuals.append(actual - (level + phi * trend))
        previous = level
        level = alpha * actual + (1 - alpha) * (level + phi * trend)
        trend = beta * (level - previous) + (1 - beta) * phi * trend
    steps = np.arange(1, horizon + 1)
    means = np.maximum(level + trend * np.cumsum(phi**steps), 0.0)
    return DemandForecast(means, np.asarray(residuals[-error_window:], dtype=float))


def expected_shortage(samples: np.ndarray, level: float) -> float:
    """E[(D - level)+] over the demand samples."""
    return float(np.maximum(samples - level, 0.0).mean())


def order_up_to_for_fill_rate(forecast: DemandForecast, lead: LeadTime, fill_rate: float, review: int = 1,
                              seed: int = 0) -> float:  # fmt: skip
    """The smallest order-up-to level meeting ``fill_rate`` under periodic review every ``review`` periods."""
    if not 0 < fill_rate < 1:
        raise InventoryError(f"fill rate target must be between 0 and 1, got {fill_rate}")
    rng = np.random.default_rng(seed)
    with_review = forecast.samples(lead, review, rng)
    lead_only = forecast.samples(lead, 0, rng)
    allowed = (1 - fill_rate) * float(forecast.means[:review].sum())
    low, high = 0.0, float(with_review.max())
    for _ in range(40):  # bisection: the shortage falls as the level rises
        middle = (low + high) / 2
        short = expected_shortage(with_review, middle) - expected_shortage(lead_only, middle)
        low, high = (middle, high) if short > allowed else (low, middle)
    return high


def eoq(demand_per_period: float, costs: Costs) -> float:
    """Economic order quantity: sqrt(2 D K / h)."""
    if demand_per_period <= 0:
        return 0.0
    return math.sqrt(2 * demand_per_period * costs.ordering_per_order / costs.holding_per_unit)


def policy_for(sku: str, location: str, history: np.ndarray, lead: LeadTime, costs: Costs,
               fill_rate: float, review: int = 1) -> StockPolicy:  # fmt: skip
    """Safety stock, reorder point, order-up-to level and EOQ of one SKU x location."""
    forecast = damped_holt(np.asarray(history, dtype=float))
    return policy_from_forecast(sku, location, forecast, lead, costs, fill_rate, review)


def policy_from_forecast(sku: str, location: str, forecast: DemandForecast, lead: LeadTime, costs: Costs,
                         fill_rate: float, review: int = 1) -> StockPolicy:  # fmt: skip
    """The policy of one SKU x location from any forecast distribution (periodic means + past errors)."""
    order_up_to = order_up_to_for_fill_rate(forecast, lead, fill_rate, review)
    per_period = float(forecast.means[0])
    expected_protection = float(forecast.means[: math.ceil(lead.mean) + review].sum())
    return StockPolicy(
        sku=sku, location=location, mean_demand=per_period,
        safety_stock=max(order_up_to - expected_protection, 0.0),
        reorder_point=max(order_up_to - per_period * review, 0.0),
        order_up_to=order_up_to, eoq=eoq(per_period, costs), fill_rate_target=fill_rate,
    )  # fmt: skip
