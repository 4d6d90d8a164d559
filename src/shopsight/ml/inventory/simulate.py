"""Replay held-out weeks of real demand against the stock policy and report what it achieved.

Each SKU x location starts at its order-up-to level; every week the policy is re-sized from the demand
seen so far (a rolling window, so it follows the season), an order brings the inventory position up to
the level and arrives after a lead time drawn from the supplier's distribution, and the week's demand is
served from stock on hand; what cannot be served is backordered. Fill rate = units served from stock at
once / units demanded; cost = holding on the stock left at each week's end + a fixed cost per order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from shopsight.ml.inventory.policy import Costs, LeadTime, damped_holt, order_up_to_for_fill_rate


class SimulationResult(BaseModel):
    """What the policy achieved over the held-out weeks, in all and per series."""

    series: int
    weeks: int
    target_fill_rate: float
    achieved_fill_rate: float
    demand: float
    served_at_once: float
    holding_cost: float
    ordering_cost: float
    orders: int
    mean_stock: float
    per_series: dict[str, float]  # achieved fill rate per SKU x location


@dataclass
class _Ledger:
    on_hand: float
    pipeline: dict[int, float]
    served: float = 0.0
    demand: float = 0.0
    holding: float = 0.0
    orders: int = 0
    stock_weeks: float = 0.0


def simulate_series(history: np.ndarray, future: np.ndarray, lead: LeadTime, costs: Costs, fill_rate: float,
                    window: int, rng: np.random.Generator) -> _Ledger:  # fmt: skip
    """One SKU x location through the held-out weeks ``future`` after ``history``."""
    seen = list(history.astype(float))
    level = order_up_to_for_fill_rate(damped_holt(np.asarray(seen[-window:])), lead, fill_rate)
    book = _Ledger(on_hand=level, pipeline={})
    for week, demand in enumerate(future):
        book.on_hand += book.pipeline.pop(week, 0.0)
        level = order_up_to_for_fill_rate(damped_holt(np.asarray(seen[-window:])), lead, fill_rate, seed=week)
        position = book.on_hand + sum(book.pipeline.values())
        if level > position:
            arrival = week + max(round(rng.normal(lead.mean, lead.std)), 0)
            if arrival == week:
                book.on_hand += level - position
            else:
                book.pipeline[arrival] = book.pipeline.get(arrival, 0.0) + level - position
            book.orders += 1
        book.served += min(float(demand), max(book.on_hand, 0.0))
        book.demand += float(demand)
        book.on_hand -= float(demand)
        book.holding += max(book.on_hand, 0.0) * costs.holding_per_unit
        book.stock_weeks += max(book.on_hand, 0.0)
        seen.append(float(demand))
    return book


def simulate(series: Iterable[tuple[str, np.ndarray, np.ndarray]], lead: LeadTime, costs: Costs,
             fill_rate: float, window: int = 26, seed: int = 0,
             progress: Callable[[str], None] | None = None) -> SimulationResult:  # fmt: skip
    """Every (name, history, held-out weeks) series through the policy; fill rate pooled over units."""
    rng = np.random.default_rng(seed)
    books: dict[str, _Ledger] = {}
    weeks = 0
    for name, history, future in series:
        books[name] = simulate_series(history, future, lead, costs, fill_rate, window, rng)
        weeks = max(weeks, len(future))
        if progress is not None:
            progress(name)
    demand = sum(b.demand for b in books.values())
    served = sum(b.served for b in books.values())
    orders = sum(b.orders for b in books.values())
    return SimulationResult(
        series=len(books), weeks=weeks, target_fill_rate=fill_rate,
        achieved_fill_rate=served / demand if demand else 1.0, demand=demand, served_at_once=served,
        holding_cost=sum(b.holding for b in books.values()), ordering_cost=orders * costs.ordering_per_order,
        orders=orders, mean_stock=sum(b.stock_weeks for b in books.values()) / max(weeks, 1),
        per_series={n: (b.served / b.demand if b.demand else 1.0) for n, b in books.items()},
    )  # fmt: skip
