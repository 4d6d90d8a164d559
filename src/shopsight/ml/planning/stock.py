"""Stock policy, risk and the replenishment plan per product x location, from the demand forecasts.

The forecast distribution the inventory module sizes stock from is built from the plan's own forecasts:
weekly sums of the daily forecast (the last week repeated past the horizon, so long lead times are
covered) plus the chosen model's weekly backtest errors. Stock positions are the latest available units
of each location (the warehouse has no open purchase orders, so nothing counts as on order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.ml.inventory.plan import PERIOD_DAYS, PlanLine, StockPosition, replenishment_plan, risk
from shopsight.ml.inventory.policy import Costs, DemandForecast, LeadTime, StockPolicy, policy_from_forecast
from shopsight.ml.planning.demand import DemandForecasts

WEEKS_PER_YEAR = 52
MIN_HOLDING = 0.01  # per unit and week, when a product has no cost to derive it from


@dataclass(frozen=True)
class StockSetup:
    """Supplier lead time, service target, costs, and when stock counts as overstock."""

    lead_days: float = 14.0
    lead_std_days: float = 4.0
    fill_rate: float = 0.95
    holding_rate: float = 0.25  # per year, of the unit cost
    order_cost: float = 20.0  # per purchase order
    transfer_days: int = 2
    overstock_weeks: float = 12.0

    @property
    def lead(self) -> LeadTime:
        """The lead time in weeks, the inventory module's period."""
        return LeadTime(mean=self.lead_days / PERIOD_DAYS, std=self.lead_std_days / PERIOD_DAYS)


@dataclass(frozen=True)
class StockPlan:
    """One risk row per product x location with something to plan, and the replenishment lines."""

    risk: pd.DataFrame
    replenishment: pd.DataFrame


def weekly_forecast(daily_means: np.ndarray, weekly_errors: np.ndarray, weeks: int) -> DemandForecast:
    """Weekly sums of the daily means, padded to ``weeks`` with the last week's, and the weekly errors."""
    full = len(daily_means) // PERIOD_DAYS
    if full == 0:
        means = np.array([float(np.mean(daily_means)) * PERIOD_DAYS])
    else:
        means = daily_means[: full * PERIOD_DAYS].reshape(full, PERIOD_DAYS).sum(axis=1)
    padded = np.concatenate([means, np.repeat(means[-1], max(weeks - len(means), 0))])
    errors = weekly_errors if weekly_errors.size else np.zeros(1)
    return DemandForecast(padded.astype(float), errors.astype(float))


def weekly_errors(errors: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per series, its backtest errors summed over each whole week of each window.

    A backtest window shorter than a week has no whole week: its daily errors times sqrt(7) stand in
    (the spread of a sum of seven independent days).
    """
    week = (errors["step"] - 1) // PERIOD_DAYS
    grouped = errors.assign(week=week).groupby(["unique_id", "window", "week"])["error"]
    sums = grouped.sum()[grouped.size() == PERIOD_DAYS]
    if sums.empty:
        scaled = errors.assign(error=errors["error"] * math.sqrt(PERIOD_DAYS))
        return {str(k): g["error"].to_numpy(dtype=float) for k, g in scaled.groupby("unique_id")}
    return {str(k): g.to_numpy(dtype=float) for k, g in sums.groupby(level="unique_id")}


def _costs(product: pd.Series | None, setup: StockSetup) -> Costs:
    unit_cost = 0.0
    if product is not None:
        cost, price = product.get("cost"), product.get("price")
        unit_cost = float(cost) if cost and cost > 0 else float(price or 0.0) / 2
    holding = max(setup.holding_rate * unit_cost / WEEKS_PER_YEAR, MIN_HOLDING)
    return Costs(holding_per_unit=holding, ordering_per_order=setup.order_cost)


def plan_stock(
    demand: DemandForecasts, series: pd.DataFrame, stock: pd.DataFrame, products: pd.DataFrame,
    setup: StockSetup, today: date,
) -> StockPlan:  # fmt: skip
    """Policies, risk and replenishment for every series (``series``: unique_id, product_id, location_id)."""
    lead = setup.lead
    span = math.ceil(lead.mean + 4 * lead.std) + 2  # weeks of demand a lead-time sample may reach
    errors = weekly_errors(demand.errors)
    means = {str(k): g["mean"].to_numpy(dtype=float) for k, g in demand.forecasts.groupby("unique_id")}
    held = stock.set_index(["product_id", "location_id"])["available"].to_dict()
    by_product = products.set_index("product_id")
    rows, policies, positions = [], [], []
    for key, product_id, location_id in series[["unique_id", "product_id", "location_id"]].itertuples(
        index=False
    ):
        forecast = weekly_forecast(means[key], errors.get(key, np.zeros(1)), span)
        product = by_product.loc[product_id] if product_id in by_product.index else None
        policy = _policy(product_id, location_id, forecast, _costs(product, setup), setup)
        on_hand = held.get((product_id, location_id), 0.0)
        position = StockPosition(sku=product_id, location=location_id, on_hand=on_hand)
        rows.append(_risk_row(policy, position, forecast, setup, float(means[key].sum())))
        policies.append(policy)
        positions.append(position)
    lines = replenishment_plan(policies, positions, lead, today, setup.transfer_days)
    risk_frame = pd.DataFrame(rows)
    risk_frame = risk_frame[(risk_frame["forecast_units"] > 0) | (risk_frame["available"] > 0)]
    return StockPlan(risk_frame.reset_index(drop=True), _plan_frame(lines, policies, positions))


def _policy(
    product_id: str, location_id: str, forecast: DemandForecast, costs: Costs, setup: StockSetup
) -> StockPolicy:
    """The policy; a series whose forecast distribution is all zero needs no stock (and no sampling)."""
    if forecast.means.max() <= 0 and forecast.residuals.max() <= 0:
        return StockPolicy(
            sku=product_id, location=location_id, mean_demand=0.0, safety_stock=0.0, reorder_point=0.0,
            order_up_to=0.0, eoq=0.0, fill_rate_target=setup.fill_rate,
        )  # fmt: skip
    return policy_from_forecast(product_id, location_id, forecast, setup.lead, costs, setup.fill_rate)


def _risk_row(
    policy: StockPolicy, position: StockPosition, forecast: DemandForecast, setup: StockSetup, units: float
) -> dict[str, object]:
    found = risk(policy, position, forecast, setup.lead, overstock_periods=setup.overstock_weeks)
    level = position.inventory_position
    overstock = found.overstock and level > policy.order_up_to
    needs = level <= policy.reorder_point and policy.order_up_to > level
    return {
        "product_id": policy.sku, "location_id": policy.location, "available": position.on_hand,
        "inventory_position": level, "weekly_demand": policy.mean_demand, "forecast_units": units,
        "safety_stock": policy.safety_stock, "reorder_point": policy.reorder_point,
        "order_up_to": policy.order_up_to, "eoq": policy.eoq,
        "days_of_cover": found.days_of_cover if math.isfinite(found.days_of_cover) and level > 0 else None,
        "stockout_risk": found.stockout_risk, "overstock": overstock,
        "excess_units": max(level - policy.order_up_to, 0.0),
        "status": "reorder" if needs else "overstock" if overstock else "ok",
    }  # fmt: skip


PLAN_COLUMNS = ["product_id", "location_id", "kind", "source", "quantity", "order_by", "arrives", "reason",
                "inventory_position", "reorder_point", "order_up_to"]  # fmt: skip


def _plan_frame(
    lines: list[PlanLine], policies: list[StockPolicy], positions: list[StockPosition]
) -> pd.DataFrame:
    """The plan's lines with the position and policy of the location they stock."""
    levels = {(p.sku, p.location): p for p in policies}
    held = {(p.sku, p.location): p.inventory_position for p in positions}
    rows = []
    for line in lines:
        policy = levels[(line.sku, line.location)]
        rows.append({
            "product_id": line.sku, "location_id": line.location, "kind": line.kind.value,
            "source": line.source, "quantity": line.quantity, "order_by": line.order_by,
            "arrives": line.arrives, "reason": line.reason,
            "inventory_position": held[(line.sku, line.location)],
            "reorder_point": policy.reorder_point, "order_up_to": policy.order_up_to,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def plan_day(as_of: date) -> date:
    """The day the plan is for: the first day after the data."""
    return as_of + timedelta(days=1)
