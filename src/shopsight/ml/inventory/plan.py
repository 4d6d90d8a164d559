"""Risk per SKU x location and the replenishment plan: transfers between locations first, then orders.

A location whose inventory position (on hand + on order) is at or below its reorder point needs stock up
to its order-up-to level. Another location holding more than its order-up-to level plus one economic order
of the same SKU gives its surplus first (a transfer is faster and cheaper than a new purchase); what is
still missing is ordered from the supplier, at least one economic order quantity.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shopsight.ml.inventory.policy import DemandForecast, LeadTime, StockPolicy

PERIOD_DAYS = 7


class StockPosition(BaseModel):
    """What a location holds of a SKU now."""

    model_config = ConfigDict(frozen=True)

    sku: str
    location: str
    on_hand: float
    on_order: float = Field(0.0, ge=0)

    @property
    def inventory_position(self) -> float:
        """On hand plus on order."""
        return self.on_hand + self.on_order


class StockRisk(BaseModel):
    """Days of cover and the chances of running out before a delivery, or of holding far too much."""

    sku: str
    location: str
    days_of_cover: float
    stockout_risk: float  # P(demand over the lead time > inventory position)
    overstock: bool


class MoveKind(StrEnum):
    """Where stock comes from."""

    transfer = "transfer"
    purchase = "purchase"


class PlanLine(BaseModel):
    """What to move where, when and how much, and why."""

    sku: str
    location: str
    kind: MoveKind
    source: str  # a location, or "supplier"
    quantity: float
    order_by: date
    arrives: date
    reason: str


def risk(policy: StockPolicy, position: StockPosition, forecast: DemandForecast, lead: LeadTime,
         overstock_periods: float = 12, seed: int = 0) -> StockRisk:  # fmt: skip
    """Days of cover, stock-out risk over the lead time, and whether the position is overstock."""
    rng = np.random.default_rng(seed)
    demand = forecast.samples(lead, 0, rng)
    per_day = policy.mean_demand / PERIOD_DAYS
    cover = position.inventory_position / per_day if per_day > 0 else float("inf")
    return StockRisk(
        sku=position.sku, location=position.location, days_of_cover=cover,
        stockout_risk=float((demand > position.inventory_position).mean()),
        overstock=cover > overstock_periods * PERIOD_DAYS,
    )  # fmt: skip


def replenishment_plan(policies: list[StockPolicy], positions: list[StockPosition], lead: LeadTime,
                       today: date, transfer_days: int = 2) -> list[PlanLine]:  # fmt: skip
    """Transfers from surplus locations, then supplier orders, for every SKU x location that needs stock."""
    held = {(p.sku, p.location): p for p in positions}
    plan: list[PlanLine] = []
    for sku in sorted({p.sku for p in policies}):
        mine = [p for p in policies if p.sku == sku]
        needs = _needs(mine, held)
        surplus = _surplus(mine, held)
        for policy, need in needs:
            need = _transfer_into(policy, need, surplus, plan, today, transfer_days)
            if need > 0:
                quantity = max(need, policy.eoq)
                plan.append(PlanLine(
                    sku=sku, location=policy.location, kind=MoveKind.purchase, source="supplier",
                    quantity=float(np.ceil(quantity)), order_by=today,
                    arrives=today + timedelta(days=round(lead.mean * PERIOD_DAYS)),
                    reason=f"position at or below reorder point {policy.reorder_point:.0f}; "
                    f"up to {policy.order_up_to:.0f} (EOQ {policy.eoq:.0f})",
                ))  # fmt: skip
    return plan


def _position(held: dict[tuple[str, str], StockPosition], policy: StockPolicy) -> float:
    found = held.get((policy.sku, policy.location))
    return found.inventory_position if found is not None else 0.0


def _needs(
    mine: list[StockPolicy], held: dict[tuple[str, str], StockPosition]
) -> list[tuple[StockPolicy, float]]:
    wanting = [(p, p.order_up_to - _position(held, p)) for p in mine if _position(held, p) <= p.reorder_point]
    return sorted(wanting, key=lambda item: -item[1])


def _surplus(mine: list[StockPolicy], held: dict[tuple[str, str], StockPosition]) -> dict[str, float]:
    extra = {p.location: _position(held, p) - p.order_up_to - p.eoq for p in mine}
    return {location: amount for location, amount in extra.items() if amount > 0}


def _transfer_into(policy: StockPolicy, need: float, surplus: dict[str, float], plan: list[PlanLine],
                   today: date, transfer_days: int) -> float:  # fmt: skip
    for source in sorted(surplus, key=lambda s: -surplus[s]):
        if need <= 0:
            break
        moved = float(np.floor(min(need, surplus[source])))
        if moved <= 0:
            continue
        surplus[source] -= moved
        need -= moved
        plan.append(PlanLine(
            sku=policy.sku, location=policy.location, kind=MoveKind.transfer, source=source, quantity=moved,
            order_by=today, arrives=today + timedelta(days=transfer_days),
            reason=f"{source} holds more than its order-up-to level plus one EOQ",
        ))  # fmt: skip
    return need
