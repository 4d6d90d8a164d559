"""Names the plan CLI's options need, and the rule for adding up locations, with no heavy import (the
demand module loads pandas)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

CANDIDATES = ("seasonal_naive", "window_average", "croston", "adida", "imapa", "tsb")
LEVELS = (80, 95)


def add_up(points: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """One day's forecasts of several locations as one: the means and the interval half-widths summed.

    Adding half-widths in quadrature, as for independent normal errors, made 80% intervals of real
    products cover 0.67-0.69 of their total units: intermittent demand's errors are spikes, and a sum's
    spikes reach further than a normal rule allows (`shopsight plan evaluate`, docs/pricing-and-inventory.md).
    """
    rows = list(points)
    mean = sum(row["mean"] for row in rows)
    together = {"mean": mean}
    for level in LEVELS:
        width = sum(row[f"hi{level}"] - row["mean"] for row in rows)
        together |= {f"lo{level}": max(mean - width, 0.0), f"hi{level}": mean + width}
    return together
