"""Hierarchical reconciliation of backtest forecasts with hierarchicalforecast (bottom-up or MinTrace).

A dataset's series are the bottom level (SKUs, countries, ...) and ``total``, their sum, the top, with the
dataset's groups (categories, regions) between them when it has some; every model forecasts every level
(base forecasts), then each window's forecasts are made coherent: the reconciled total equals the sum of
the reconciled bottom series, and each group the sum of its series. Bottom-up keeps the bottom forecasts and
sums them; MinTrace combines every level's forecasts, each weighted by the inverse variance of its errors
on the backtest's earlier windows (``wls_var`` fed with those out-of-sample errors instead of in-sample
residuals, which LightGBM and ``auto`` do not have), or by structural scaling (``wls_struct``) where no
earlier window exists.
Interval bounds move with their point forecast here; ``evaluate.recalibrated`` then calibrates the moved
forecasts' intervals again on the reconciled errors of earlier windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.ml.forecast.datasets import ForecastDataError, SeriesSet

TOTAL = "total"
RECONCILERS = ("none", "bottom_up", "min_trace")


@dataclass(frozen=True)
class Hierarchy:
    """Every level's series (``frame``, Nixtla layout), the summing matrix and each level's series ids."""

    frame: Any
    summing: Any  # hierarchicalforecast's S_df
    tags: dict[str, Any]  # hierarchicalforecast's level -> ids, top level first
    levels: dict[str, list[str]]  # short level name -> ids, top level first

    @property
    def bottom(self) -> str:
        """The name of the bottom level (the dataset's own series)."""
        return list(self.levels)[-1]


def build(data: SeriesSet) -> Hierarchy:
    """``total`` above ``data``'s series (and its groups between them, if it has some), which must all end
    on the same period (aligned windows)."""
    from hierarchicalforecast.utils import aggregate  # type: ignore[import-untyped]

    ends = data.frame.groupby("unique_id")["ds"].max()
    if ends.nunique() > 1:
        raise ForecastDataError("reconciliation needs series that all end on the same period")
    bottom = data.frame.assign(**{TOTAL: TOTAL, data.level: data.frame["unique_id"]})
    spec = [[TOTAL], [TOTAL, data.level]]
    if data.groups is not None:
        bottom[data.group_level] = bottom["unique_id"].map(data.groups)
        spec = [[TOTAL], [TOTAL, data.group_level], [TOTAL, data.group_level, data.level]]
    frame, summing, tags = aggregate(bottom.drop(columns="unique_id"), spec)
    levels = {name.split("/")[-1]: [str(i) for i in ids] for name, ids in tags.items()}
    frame = frame[["unique_id", "ds", "y"]].astype({"unique_id": str, "y": float})
    return Hierarchy(frame.sort_values(["unique_id", "ds"], ignore_index=True), summing, tags, levels)


def reconcile(
    runs: dict[str, Any], hierarchy: Hierarchy, method: str, *, non_negative: bool
) -> dict[str, Any]:
    """Each model's backtest with coherent forecasts, window by window; the models that share their
    earlier windows are reconciled in one call (their errors there weight MinTrace)."""
    windows = sorted({int(w) for run in runs.values() for w in run["window"].unique()})
    parts: dict[str, list[Any]] = {name: [] for name in runs}
    for window in windows:
        present = {name: run[run["window"] == window] for name, run in runs.items()}
        for group in _by_history(runs, [name for name, part in present.items() if len(part)], window):
            history = {name: runs[name][runs[name]["window"] < window] for name in group}
            coherent = _reconciled_window({n: present[n] for n in group}, history, hierarchy, method)
            for name in group:
                parts[name].append(
                    _shifted(present[name], coherent[["unique_id", "ds", name]], name, non_negative)
                )
    return {
        name: pd.concat(chunks, ignore_index=True).sort_values(
            ["unique_id", "window", "ds"], ignore_index=True
        )
        for name, chunks in parts.items()
    }


def _by_history(runs: dict[str, Any], names: list[str], window: int) -> list[list[str]]:
    """``names`` grouped by the earlier windows they have (``auto`` starts after the selection windows)."""
    groups: dict[tuple[int, ...], list[str]] = {}
    for name in names:
        earlier = runs[name]["window"]
        groups.setdefault(tuple(sorted({int(w) for w in earlier[earlier < window]})), []).append(name)
    return list(groups.values())


def _reconciled_window(
    present: dict[str, Any], history: dict[str, Any], hierarchy: Hierarchy, method: str
) -> Any:
    """One frame ``unique_id, ds, <model>...`` of the reconciled point forecasts of one window.

    MinTrace weighs each series by the variance of its errors on the earlier windows (``wls_var``: out of
    sample, so more honest than in-sample residuals); with no earlier window, by the number of bottom
    series under it (``wls_struct``).
    """
    from hierarchicalforecast.core import HierarchicalReconciliation  # type: ignore[import-untyped]

    errors = _wide(history, with_actuals=True) if method == "min_trace" else None
    if errors is not None and errors.empty:
        errors = None
    engine = HierarchicalReconciliation(reconcilers=[_reconciler(method, weighted=errors is not None)])
    result = engine.reconcile(
        Y_hat_df=_wide(present), S_df=hierarchy.summing, tags=hierarchy.tags, Y_df=errors
    )
    renamed = {f"{name}/{suffix}": name for name in present for suffix in _suffixes(result, name)}
    return result[["unique_id", "ds", *renamed]].rename(columns=renamed)


def _wide(parts: dict[str, Any], *, with_actuals: bool = False) -> Any:
    """``unique_id, ds`` (and ``y``) and one forecast column per model."""
    stacked = pd.concat([part.assign(model=name) for name, part in parts.items()], ignore_index=True)
    wide = stacked.pivot_table(index=["unique_id", "ds"], columns="model", values="forecast").reset_index()
    wide.columns.name = None
    if with_actuals:
        actuals = stacked.groupby(["unique_id", "ds"], as_index=False)["y"].first()
        wide = wide.merge(actuals, on=["unique_id", "ds"])
    return wide


def _suffixes(result: Any, name: str) -> list[str]:
    return [str(c).split("/", 1)[1] for c in result.columns if str(c).startswith(f"{name}/")]


def _reconciler(method: str, *, weighted: bool = False) -> Any:
    from hierarchicalforecast.methods import BottomUp, MinTrace  # type: ignore[import-untyped]

    if method == "bottom_up":
        return BottomUp()
    if method == "min_trace":
        return MinTrace(method="wls_var" if weighted else "wls_struct")
    raise ForecastDataError(f"unknown reconciliation {method!r}; choose among {', '.join(RECONCILERS)}")


def _shifted(part: Any, coherent: Any, name: str, non_negative: bool) -> Any:
    """``part`` with the reconciled forecast; its interval bounds moved by the same amount."""
    merged = part.merge(coherent.rename(columns={name: "coherent"}), on=["unique_id", "ds"], how="left")
    shift = (merged["coherent"] - merged["forecast"]).to_numpy()
    floor = 0.0 if non_negative else -np.inf
    return merged.assign(
        forecast=np.maximum(merged["coherent"], floor),
        lo=np.maximum(merged["lo"] + shift, floor),
        hi=np.maximum(merged["hi"] + shift, floor),
    ).drop(columns="coherent")
