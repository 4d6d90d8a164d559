"""Prices that maximize expected gross margin under guardrails, markdowns for overstock, flash sales.

Demand at price ``p`` follows the constant-elasticity curve through today's point:
``units(p) = base_units * (p / current_price) ** e``. Margin ``(p - cost) * units(p)`` is then unimodal in
``p``: for elastic demand (``e < -1``) it peaks at ``cost * e / (1 + e)``, for inelastic demand it rises
with price, so the best feasible price is that peak clipped to the guardrails' interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.ml.pricing.models import (
    Elasticity,
    ElasticitySource,
    FlashSaleCandidate,
    Guardrails,
    PriceAction,
    PriceRecommendation,
    ProductState,
)

HOLD_BELOW = 0.005  # changes smaller than half a percent are not worth a price change


def units_at(state: ProductState, elasticity: float, price: float) -> float:
    """Expected units per period at ``price``."""
    return float(state.base_units * (price / state.current_price) ** elasticity)


def margin_at(state: ProductState, elasticity: float, price: float) -> float:
    """Expected gross margin per period at ``price``."""
    return (price - state.unit_cost) * units_at(state, elasticity, price)


def feasible_interval(state: ProductState, rules: Guardrails) -> tuple[float, float, dict[str, float]]:
    """(lowest, highest) allowed price and each bound's value by name (to tell which one binds)."""
    lows = {
        "max_change": state.current_price * (1 - rules.max_change),
        "min_margin": state.unit_cost / (1 - rules.min_margin),
    }
    highs = {"max_change": state.current_price * (1 + rules.max_change)}
    if state.floor is not None:
        lows["floor"] = state.floor
    if state.ceiling is not None:
        highs["ceiling"] = state.ceiling
    if state.competitor_price is not None:
        lows["competitor_band"] = state.competitor_price * (1 - rules.competitor_band)
        highs["competitor_band"] = state.competitor_price * (1 + rules.competitor_band)
    return max(lows.values()), min(highs.values()), {**_tag(lows, "low"), **_tag(highs, "high")}


def _tag(bounds: dict[str, float], side: str) -> dict[str, float]:
    return {f"{name} ({side})": value for name, value in bounds.items()}


def unconstrained_best(state: ProductState, elasticity: float) -> float:
    """The margin-maximizing price without guardrails (infinite for inelastic demand)."""
    if elasticity >= -1:
        return math.inf
    return state.unit_cost * elasticity / (1 + elasticity)


def recommend_price(state: ProductState, fit: Elasticity, rules: Guardrails) -> PriceRecommendation:
    """The margin-maximizing price within the guardrails, or a markdown when the stock will not sell."""
    markdown = _markdown(state, fit, rules)
    if markdown is not None:
        return markdown
    low, high, bounds = feasible_interval(state, rules)
    drivers = [_elasticity_driver(fit)]
    if low > high:
        drivers.append(f"guardrails conflict (lowest allowed {low:.2f} > highest {high:.2f}): price held")
        return _recommendation(state, fit, state.current_price, [], drivers, PriceAction.hold)
    if not fit.significant:
        drivers.append("price effect not distinguishable from noise: price held")
        return _recommendation(state, fit, state.current_price, [], drivers, PriceAction.hold)
    best = unconstrained_best(state, fit.elasticity)
    price = min(max(best, low), high)
    binding = [name for name, value in bounds.items() if math.isclose(value, price, rel_tol=1e-9)]
    drivers.append(_optimum_driver(best, state))
    if binding:
        drivers.append("limited by " + ", ".join(binding))
    change = price / state.current_price - 1
    action = PriceAction.hold if abs(change) < HOLD_BELOW else (
        PriceAction.raise_price if change > 0 else PriceAction.lower_price
    )  # fmt: skip
    price = state.current_price if action is PriceAction.hold else in_cents(price, low, high)
    return _recommendation(state, fit, price, binding, drivers, action)


def in_cents(price: float, low: float, high: float) -> float:
    """``price`` rounded to the cent, but never past a guardrail: a bound that falls between two cents
    takes the cent on its allowed side (5.00 with a 4.5% maximum cut may go to 4.78, not 4.77)."""
    cents = round(price, 2)
    lowest, highest = math.ceil(round(low * 100, 6)) / 100, math.floor(round(high * 100, 6)) / 100
    if lowest > highest:  # no whole cent inside the bounds: the nearest one
        return cents
    return min(max(cents, lowest), highest)


def _markdown(state: ProductState, fit: Elasticity, rules: Guardrails) -> PriceRecommendation | None:
    """A price that sells the stock within ``clearance_periods``, when cover exceeds ``overstock_periods``."""
    if state.stock is None or state.base_units <= 0 or fit.elasticity >= 0:
        return None
    cover = state.stock / state.base_units
    if cover <= rules.overstock_periods:
        return None
    needed = state.stock / (rules.clearance_periods * state.base_units)  # demand multiple to clear
    price = state.current_price * needed ** (1 / fit.elasticity)
    floors = {"max_markdown": state.current_price * (1 - rules.max_markdown)}
    if state.floor is not None:
        floors["floor"] = state.floor
    binding = [name for name, value in floors.items() if value > price]
    price = max(price, *floors.values())
    drivers = [
        _elasticity_driver(fit),
        f"overstock: {cover:.1f} periods of cover > {rules.overstock_periods:g}",
        f"clearing {state.stock:g} units in {rules.clearance_periods:g} periods needs {needed:.2f}x demand",
    ]
    if binding:
        drivers.append("limited by " + ", ".join(binding) + ": stock will not fully clear")
    price = in_cents(min(price, state.current_price), max(floors.values()), state.current_price)
    return _recommendation(state, fit, price, binding, drivers, PriceAction.markdown)


def _elasticity_driver(fit: Elasticity) -> str:
    basis = (
        "assumed prior: no price variation to learn from"
        if fit.source is ElasticitySource.prior
        else f"{fit.source.value} history, {fit.observations} periods"
    )
    return f"elasticity {fit.elasticity:.2f} (95% CI {fit.ci_low:.2f} to {fit.ci_high:.2f}, {basis})"


def _optimum_driver(best: float, state: ProductState) -> str:
    if math.isinf(best):
        return "inelastic demand: margin rises with price up to the guardrails"
    return f"unconstrained margin optimum {best:.2f} vs current {state.current_price:.2f}"


def _recommendation(state: ProductState, fit: Elasticity, price: float, binding: list[str],
                    drivers: list[str], action: PriceAction) -> PriceRecommendation:  # fmt: skip
    at_bounds = [margin_at(state, e, price) for e in (fit.ci_low, fit.ci_high)]
    return PriceRecommendation(
        product_id=state.product_id, action=action, current_price=state.current_price,
        recommended_price=round(price, 2), change=price / state.current_price - 1,
        elasticity=fit.elasticity, elasticity_ci=(fit.ci_low, fit.ci_high),
        expected_units=units_at(state, fit.elasticity, price), expected_units_now=state.base_units,
        expected_margin=margin_at(state, fit.elasticity, price),
        expected_margin_now=margin_at(state, fit.elasticity, state.current_price),
        margin_range=(min(at_bounds), max(at_bounds)), binding=binding, drivers=drivers,
    )  # fmt: skip


def flash_sale_candidates(sales: pd.DataFrame, window: int = 8, min_z: float = 3.0,
                          min_ratio: float = 2.0) -> list[FlashSaleCandidate]:  # fmt: skip
    """Products whose units in the latest period are far above their previous ``window`` periods."""
    candidates = []
    for product, rows in sales.sort_values("period").groupby("product_id", sort=True):
        units = rows["units"].to_numpy(dtype=float)
        if len(units) < window + 1:
            continue
        history, latest = units[-window - 1 : -1], float(units[-1])
        mean, spread = float(np.mean(history)), float(np.std(history, ddof=1))
        z = (latest - mean) / max(spread, 1e-9, 0.1 * mean)
        ratio = latest / mean if mean > 0 else math.inf
        if z >= min_z and ratio >= min_ratio:
            period = pd.Timestamp(rows["period"].iloc[-1]).date().isoformat()
            candidates.append(FlashSaleCandidate(
                product_id=str(product), period=period, units=latest, baseline_units=mean,
                spike_ratio=ratio, z_score=z,
                drivers=[f"{latest:g} units vs {mean:.1f} a period over the previous {window} ({ratio:.1f}x)",
                         f"z-score {z:.1f} >= {min_z:g}"],
            ))  # fmt: skip
    return sorted(candidates, key=lambda c: c.z_score, reverse=True)
