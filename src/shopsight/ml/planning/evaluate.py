"""How good the plan's daily forecasts and 80% / 95% intervals are on real demand (``plan evaluate``).

The plan's forecasting step (``demand.forecast_demand``, unchanged) runs on real online-retail daily units
per SKU x location, from rolling cutoffs; the next ``horizon`` days are the test. Scored per series and
for every location of a product together (``names.add_up``, the rule the API and dashboard use): coverage
and the interval (Winkler) score, ``width + (2 / alpha) * distance outside``, lower is better; and the
point forecast's RMSE (what the plan chooses models by), MAE, WAPE and bias (forecast over actual, - 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from pydantic import BaseModel

from shopsight.ml.forecast.datasets import retail_sales
from shopsight.ml.planning.demand import DemandSetup, forecast_demand
from shopsight.ml.planning.names import CANDIDATES, LEVELS, add_up

HOME = "United Kingdom"
# Locations for online-retail: where an order ships to stands in for the warehouse that serves it.
LOCATIONS = {
    2: {HOME: "uk"},  # the rest: "export"
    5: {HOME: "uk", "EIRE": "ie", "Germany": "de", "France": "fr"},  # the rest: "other"
}
MIN_HISTORY = 60  # days a series needs before a cutoff to be forecast


@dataclass(frozen=True)
class EvaluationSetup:
    """What to evaluate: how many SKUs (most units before the first cutoff), locations and cutoffs."""

    skus: int = 600
    locations: int = 2
    cutoffs: int = 4
    horizon: int = 28
    models: tuple[str, ...] = CANDIDATES


class PlanScore(BaseModel):
    """Interval coverage and score, and point-forecast errors, of one level of aggregation."""

    scope: str  # "per location" or "every location together"
    series: int
    points: int
    coverage80: float
    coverage95: float
    interval_score80: float
    interval_score95: float
    rmse: float
    mae: float
    wape: float
    bias: float


def evaluate_plan(datasets: Path, setup: EvaluationSetup) -> list[PlanScore]:
    """Forecast from each cutoff with the plan's defaults; score against the days after it."""
    frame = _series(retail_sales(datasets), setup)
    end = frame["ds"].max()
    scored = []
    for back in range(setup.cutoffs, 0, -1):
        cutoff = end - pd.Timedelta(days=setup.horizon * back)
        history = frame[frame["ds"] <= cutoff]
        history = history[history.groupby("unique_id")["ds"].transform("size") >= MIN_HISTORY]
        demand_setup = DemandSetup(horizon=setup.horizon, models=setup.models)
        forecasts = forecast_demand(history, demand_setup).forecasts
        scored.append(forecasts.merge(frame, on=["unique_id", "ds"]).assign(cutoff=cutoff))
    per_location = pd.concat(scored, ignore_index=True)
    per_location["sku"] = per_location["unique_id"].str.split("/").str[0]
    return [_score("per location", per_location), _score("every location together", _together(per_location))]


def _series(sales: Any, setup: EvaluationSetup) -> Any:
    """Daily net units (floored at 0) per SKU x location, zero-filled from the first sale to the end."""
    names = LOCATIONS[setup.locations]
    rest = "export" if setup.locations == 2 else "other"
    sales = sales.assign(location=sales["country"].map(names).fillna(rest))
    daily = sales.groupby(["sku", "location", "day"], as_index=False)["units"].sum()
    daily["units"] = daily["units"].clip(lower=0.0)
    end = daily["day"].max()
    first_cutoff = end - pd.Timedelta(days=setup.horizon * setup.cutoffs)
    before = daily[daily["day"] <= first_cutoff].groupby("sku")["units"].sum()
    top = before.nlargest(setup.skus).index
    parts = []
    for (sku, location), group in daily[daily["sku"].isin(top)].groupby(["sku", "location"]):
        days = pd.date_range(group["day"].min(), end, freq="D")
        units = group.set_index("day")["units"].reindex(days, fill_value=0.0)
        parts.append(pd.DataFrame({"unique_id": f"{sku}/{location}", "ds": days, "y": units.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def _together(per_location: Any) -> Any:
    """Each SKU sold at two or more locations: per day, the added-up forecast against its total units."""
    several = per_location[per_location.groupby(["cutoff", "sku"])["unique_id"].transform("nunique") >= 2]
    rows = []
    columns = ["mean", *(f"{side}{level}" for level in LEVELS for side in ("lo", "hi"))]
    for (cutoff, sku, day), group in several.groupby(["cutoff", "sku", "ds"], sort=False):
        points = group[columns].to_dict("records")
        rows.append({"unique_id": sku, "cutoff": cutoff, "ds": day, "y": group["y"].sum(), **add_up(points)})
    return pd.DataFrame(rows)


def _score(scope: str, frame: Any) -> PlanScore:
    actual = frame["y"].to_numpy(dtype=float)
    scores: dict[str, float] = {}
    for level in LEVELS:
        low, high = frame[f"lo{level}"].to_numpy(), frame[f"hi{level}"].to_numpy()
        alpha = 1 - level / 100
        outside = np.maximum(low - actual, 0.0) + np.maximum(actual - high, 0.0)
        scores[f"coverage{level}"] = round(float(np.mean((actual >= low) & (actual <= high))), 3)
        scores[f"interval_score{level}"] = round(float(np.mean(high - low + 2 / alpha * outside)), 2)
    error = frame["mean"].to_numpy(dtype=float) - actual
    total = float(actual.sum())
    scores |= {
        "rmse": round(float(np.sqrt(np.mean(error**2))), 3), "mae": round(float(np.mean(np.abs(error))), 3),
        "wape": round(float(np.abs(error).sum()) / total, 3), "bias": round(float(error.sum()) / total, 3),
    }  # fmt: skip
    return PlanScore(
        scope=scope, series=int(frame["unique_id"].nunique()), points=len(frame), **scores
    )  # fmt: skip
