"""Stock policy: calibrated fill rate on known demand, EOQ, risk and the replenishment plan."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from shopsight.ml.inventory.plan import MoveKind, StockPosition, replenishment_plan, risk
from shopsight.ml.inventory.policy import (
    Costs,
    InventoryError,
    LeadTime,
    damped_holt,
    eoq,
    order_up_to_for_fill_rate,
    policy_for,
)
from shopsight.ml.inventory.simulate import simulate

COSTS = Costs(holding_per_unit=0.5, ordering_per_order=40.0)


def poisson_series(count: int, weeks: int, seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    series = []
    for index in range(count):
        rate = rng.uniform(3, 60)
        demand = rng.poisson(rate, weeks + 30).astype(float)
        series.append((f"s{index}", demand[:30], demand[30:]))
    return series


@pytest.mark.parametrize("target", [0.90, 0.95, 0.98])
def test_the_simulated_fill_rate_meets_the_target_within_two_points_on_known_demand(target: float) -> None:
    result = simulate(poisson_series(30, 40, seed=4), LeadTime(mean=2, std=0.5), COSTS, target)
    assert abs(result.achieved_fill_rate - target) <= 0.02, result.achieved_fill_rate
    assert result.orders > 0 and result.holding_cost > 0


def test_more_service_and_less_reliable_suppliers_need_more_stock() -> None:
    forecast = damped_holt(np.random.default_rng(1).poisson(20, 52).astype(float))
    steady, shaky = LeadTime(mean=2, std=0.0), LeadTime(mean=2, std=1.0)
    assert order_up_to_for_fill_rate(forecast, steady, 0.99) > order_up_to_for_fill_rate(
        forecast, steady, 0.9
    )
    assert order_up_to_for_fill_rate(forecast, shaky, 0.95) > order_up_to_for_fill_rate(
        forecast, steady, 0.95
    )


def test_eoq_is_the_textbook_formula_and_bad_targets_are_refused() -> None:
    assert eoq(100.0, COSTS) == pytest.approx(math.sqrt(2 * 100 * 40 / 0.5))
    assert eoq(0.0, COSTS) == 0.0
    forecast = damped_holt(np.ones(10))
    with pytest.raises(InventoryError, match="between 0 and 1"):
        order_up_to_for_fill_rate(forecast, LeadTime(mean=1), 1.2)
    with pytest.raises(InventoryError, match="no demand history"):
        damped_holt(np.array([]))


def test_the_plan_transfers_surplus_before_it_buys_and_buys_at_least_an_eoq() -> None:
    history = np.full(26, 20.0)
    lead = LeadTime(mean=1, std=0.3)
    policies = [policy_for("A", where, history, lead, COSTS, 0.95) for where in ("UK", "export", "EU")]
    surplus = policies[0].order_up_to + policies[0].eoq + 15
    positions = [StockPosition(sku="A", location="UK", on_hand=surplus),
                 StockPosition(sku="A", location="export", on_hand=0.0),
                 StockPosition(sku="A", location="EU", on_hand=0.0)]  # fmt: skip
    plan = replenishment_plan(policies, positions, lead, date(2026, 1, 5))
    transfers = [line for line in plan if line.kind is MoveKind.transfer]
    purchases = [line for line in plan if line.kind is MoveKind.purchase]
    assert sum(t.quantity for t in transfers) == 15 and all(t.source == "UK" for t in transfers)
    assert {p.location for p in purchases} == {"export", "EU"}
    assert all(p.quantity >= policies[1].eoq and p.arrives > p.order_by for p in purchases)
    healthy = [StockPosition(sku="A", location=p.location, on_hand=p.order_up_to) for p in policies]
    assert replenishment_plan(policies, healthy, lead, date(2026, 1, 5)) == []


def test_risk_falls_as_stock_rises_and_overstock_is_flagged() -> None:
    history = np.random.default_rng(2).poisson(30, 26).astype(float)
    lead = LeadTime(mean=2, std=0.5)
    policy = policy_for("A", "UK", history, lead, COSTS, 0.95)
    forecast = damped_holt(history)
    low = risk(policy, StockPosition(sku="A", location="UK", on_hand=20), forecast, lead)
    high = risk(policy, StockPosition(sku="A", location="UK", on_hand=200), forecast, lead)
    huge = risk(policy, StockPosition(sku="A", location="UK", on_hand=5_000), forecast, lead)
    assert low.stockout_risk > 0.9 > 0.05 > high.stockout_risk
    assert not high.overstock and huge.overstock and huge.days_of_cover > 84
