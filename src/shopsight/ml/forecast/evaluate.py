"""Rolling-origin backtest of every model and of ``auto``, the per-series choice, with one row per model.

The backtest runs ``windows + 1`` consecutive windows of ``horizon`` points at the end of each series; the
first one only serves to choose: for each later window, ``auto`` takes per series the model with the
lowest mean absolute error over all windows before it, so the choice never sees the points it is scored
on. Every metric is computed on the test windows only (the last ``windows``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.ml.forecast import hierarchy, metrics
from shopsight.ml.forecast.datasets import SeriesSet
from shopsight.ml.forecast.hierarchy import Hierarchy
from shopsight.ml.forecast.models import (
    CONFORMAL_WINDOWS,
    DEFAULT_MODELS,
    LEVEL,
    PRICE_MODELS,
    BacktestPlan,
    GlobalBackend,
    StatsBackend,
    applicable,
    backtest,
    check_names,
    price_features,
)

AUTO = "auto"
COMBINE = 5  # auto averages each series' best five models: steadier than a single pick
TOLERANCE = 0.5  # ... of those within 50% of the best one's error
METRIC_NAMES = ("mase", "smape", "rmsse", "wape", "bias", "pinball", "coverage80")


class Progress(Protocol):
    """Where the evaluation reports progress (a rich ``Progress`` fits)."""

    def add_task(self, description: str, *, total: float | None = ...) -> Any:
        """Start a bar."""
        ...

    def advance(self, task_id: Any, advance: float = ...) -> None:
        """Move a bar on."""
        ...


@dataclass(frozen=True)
class ModelScore:
    """One model's accuracy over the test windows of a dataset (or of one hierarchy ``level`` of it, when
    reconciled), and its backtest time."""

    model: str
    metrics: dict[str, float]
    seconds: float
    level: str | None = None

    def to_json(self) -> dict[str, float | str | None]:
        """``model``, ``level`` (only when reconciled), every metric (null when undefined), the seconds."""
        values = {k: (round(v, 5) if np.isfinite(v) else None) for k, v in self.metrics.items()}
        level = {} if self.level is None else {"level": self.level}
        return {"model": self.model, **level, **values, "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class Evaluation:
    """Scores of every model on one dataset; ``chosen`` counts the models ``auto`` picked."""

    dataset: str
    series: int
    horizon: int
    windows: int
    results: list[ModelScore]
    chosen: dict[str, int]
    notes: list[str] = field(default_factory=list)
    bottom_level: str | None = None  # when reconciled: the dataset's own series, which verdicts are about

    def score(self, model: str) -> ModelScore | None:
        """The row of ``model`` (at the bottom level when reconciled), if it ran."""
        return next((r for r in self.results if r.model == model and r.level == self.bottom_level), None)


def evaluate(
    data: SeriesSet, *, models: list[str] | None = None, horizon: int | None = None,
    windows: int | None = None, progress: Progress | None = None, reconcile: str = "none",
    stats: StatsBackend | None = None, ml: GlobalBackend | None = None,
) -> Evaluation:  # fmt: skip
    """Backtest ``models`` (default: all but AutoARIMA) and ``auto`` on ``data``'s last windows.

    ``reconcile`` (``bottom_up`` or ``min_trace``) adds the ``total`` series, makes every model's forecasts
    coherent and scores each hierarchy level apart; ``stats`` runs the statsforecast models and ``ml`` the
    global ones (e.g. on Spark).
    """
    names = check_names(models or list(DEFAULT_MODELS))
    plan = BacktestPlan(
        freq=data.freq, season_lengths=data.season_lengths, horizon=horizon or data.horizon,
        windows=(windows or data.windows) + 1, non_negative=bool((data.frame["y"] >= 0).all()),
    )  # fmt: skip
    names = [n for n in names if applicable(n, plan)]
    if data.prices is None or reconcile != "none":  # price features exist for the SKUs of the data only
        names = [n for n in names if n not in PRICE_MODELS]
    if reconcile == "none":
        frames = _frames(names, data, plan)
        runs, seconds = _run_all(names, frames, plan, progress, stats, ml)
        return summarize(data, plan, runs, seconds)
    levels = hierarchy.build(data)
    hierarchical = replace(data, frame=levels.frame)
    runs, seconds = _run_all(names, dict.fromkeys(names, levels.frame), plan, progress, stats, ml)
    return summarize(hierarchical, plan, runs, seconds, hierarchy=levels, reconcile=reconcile)


def summarize(
    data: SeriesSet, plan: BacktestPlan, runs: dict[str, Any], seconds: dict[str, float], *,
    hierarchy: Hierarchy | None = None, reconcile: str = "none",
) -> Evaluation:  # fmt: skip
    """Add ``auto`` to the models' backtests and score them all on the test windows (per level if
    ``hierarchy``, after reconciling every model's forecasts with ``reconcile``)."""
    scales = window_scales(data.frame, next(iter(runs.values())), plan.season_length)
    auto, chosen = choose(runs, scales)
    runs, seconds = {**runs, AUTO: auto}, {**seconds, AUTO: sum(seconds.values())}
    notes = [*data.notes, *_plan_notes(plan)]
    series = data.frame["unique_id"].nunique()
    if hierarchy is None:
        results = [ModelScore(name, score(run, scales), seconds[name]) for name, run in runs.items()]
        return Evaluation(data.name, series, plan.horizon, plan.windows - 1, results, chosen, notes)
    results, level_notes = _level_scores(runs, seconds, scales, hierarchy, reconcile, plan)
    return Evaluation(
        data.name, series, plan.horizon, plan.windows - 1, results, chosen, [*notes, *level_notes],
        bottom_level=hierarchy.bottom,
    )  # fmt: skip


def _level_scores(
    runs: dict[str, Any], seconds: dict[str, float], scales: Any, levels: Hierarchy, method: str,
    plan: BacktestPlan,
) -> tuple[list[ModelScore], list[str]]:  # fmt: skip
    """Every model's reconciled scores per level, and a note per level comparing ``auto`` to its base."""
    coherent = hierarchy.reconcile(runs, levels, method, non_negative=plan.non_negative)
    results, notes = [], []
    for level, ids in levels.levels.items():
        for name, run in coherent.items():
            results.append(
                ModelScore(name, score(run[run["unique_id"].isin(ids)], scales), seconds[name], level)
            )
        base = score(runs[AUTO][runs[AUTO]["unique_id"].isin(ids)], scales)["mase"]
        after = next(r for r in results if r.model == AUTO and r.level == level).metrics["mase"]
        notes.append(f"{level} ({len(ids)} series): auto MASE {after:.3f} reconciled vs {base:.3f} base")
    how = "bottom-up" if method == "bottom_up" else "MinTrace (wls_var on the earlier windows' errors)"
    notes.append(f"reconciled {how} with hierarchicalforecast: total -> {levels.bottom}")
    return results, notes


def _frames(names: list[str], data: SeriesSet, plan: BacktestPlan) -> dict[str, Any]:
    """What each model is given: the series, with the price features for the models that use them."""
    with_prices = None
    if any(name in PRICE_MODELS for name in names):
        with_prices = data.frame.merge(price_features(data.prices, plan), on=["unique_id", "ds"], how="left")
    return {name: with_prices if name in PRICE_MODELS else data.frame for name in names}


def _run_all(
    names: list[str], frames: dict[str, Any], plan: BacktestPlan, progress: Progress | None,
    stats: StatsBackend | None = None, ml: GlobalBackend | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:  # fmt: skip
    task = progress.add_task("backtesting", total=len(names)) if progress else None
    runs: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for name in names:
        started = time.perf_counter()
        with _quiet():
            runs[name] = with_window(backtest(name, frames[name], plan, stats=stats, ml=ml))
        seconds[name] = time.perf_counter() - started
        if progress:
            progress.advance(task)
    return runs, seconds


@contextmanager
def _quiet() -> Iterator[None]:
    """mlforecast warns about the empty lags of each series' first points, which it then drops."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Found null values", category=UserWarning)
        warnings.filterwarnings("ignore", message="The following series were dropped", category=UserWarning)
        yield


def with_window(run: Any) -> Any:
    """Number each series' cutoffs 0, 1, ... (series may end at different times) and the steps in each."""
    window = run.groupby("unique_id")["cutoff"].rank(method="dense").astype(int) - 1
    run = run.assign(window=window).sort_values(["unique_id", "window", "ds"], ignore_index=True)
    return run.assign(step=run.groupby(["unique_id", "window"]).cumcount())


def window_scales(frame: Any, run: Any, season_length: int) -> Any:
    """Per series and window: in-sample seasonal naive MAE and MSE on the points up to the cutoff."""
    cutoffs = run[["unique_id", "window", "cutoff"]].drop_duplicates()
    rows = []
    for series, group in frame.groupby("unique_id", sort=False):
        times, values = group["ds"].to_numpy(), group["y"].to_numpy(dtype=float)
        for window, cutoff in cutoffs.loc[
            cutoffs["unique_id"] == str(series), ["window", "cutoff"]
        ].itertuples(index=False):
            train = values[times <= cutoff]
            rows.append((str(series), window, metrics.seasonal_scale(train, season_length),
                         metrics.seasonal_scale(train, season_length, power=2)))  # fmt: skip
    return pd.DataFrame(rows, columns=["unique_id", "window", "scale", "squared_scale"])


def per_window_errors(run: Any, scales: Any) -> Any:
    """MASE, RMSSE, sMAPE and MAE per series and window."""
    rows = []
    for (series, window), group in run.groupby(["unique_id", "window"], sort=False):
        actual, forecast = group["y"].to_numpy(), group["forecast"].to_numpy()
        error = actual - forecast
        mae, mse = float(np.mean(np.abs(error))), float(np.mean(error**2))
        rows.append((series, window, mae, metrics.smape(actual, forecast), mse))
    errors = pd.DataFrame(rows, columns=["unique_id", "window", "mae", "smape", "mse"])
    errors = errors.merge(scales, on=["unique_id", "window"], how="left")
    errors["mase"] = errors["mae"] / errors["scale"]
    errors["rmsse"] = np.sqrt(errors["mse"] / errors["squared_scale"])
    return errors


def choose(runs: dict[str, Any], scales: Any, *, combine: int = COMBINE) -> tuple[Any, dict[str, int]]:
    """``auto``: per series and test window, the mean forecast of its (up to) ``combine`` models with the
    lowest mean absolute error over the earlier windows, within ``TOLERANCE`` of the best.

    The 80% interval is split conformal: the quantiles of every candidate's errors on the earlier windows,
    scaled by each series' seasonal naive MAE and pooled across series per horizon step.
    """
    stacked = pd.concat([run.assign(model=name) for name, run in runs.items()], ignore_index=True)
    errors = pd.concat([per_window_errors(run, scales).assign(model=name) for name, run in runs.items()])
    order = {name: rank for rank, name in enumerate(runs)}  # ties go to the simpler, earlier model
    windows, parts, firsts = sorted(errors["window"].unique()), [], []
    for window in windows[1:]:
        earlier = (
            errors[errors["window"] < window].groupby(["unique_id", "model"], as_index=False)["mae"].mean()
        )
        earlier = earlier.assign(rank=earlier["model"].map(order)).sort_values(["unique_id", "mae", "rank"])
        best = earlier.groupby("unique_id")["mae"].transform("min")
        close = earlier[earlier["mae"] <= best * (1 + TOLERANCE)]  # never average in a clearly worse model
        picks = close.groupby("unique_id").head(combine)[["unique_id", "model"]]
        firsts.append(picks.drop_duplicates("unique_id")["model"])
        parts.append(_combined(stacked, picks, scales, window))
    counts = pd.concat(firsts).value_counts()
    auto = pd.concat(parts, ignore_index=True).sort_values(["unique_id", "window", "ds"], ignore_index=True)
    return auto, {str(k): int(v) for k, v in counts.items()}


def _combined(stacked: Any, picks: Any, scales: Any, window: int) -> Any:
    """The picked models' mean forecast for ``window`` and its calibrated interval."""
    mean = (
        stacked[stacked["window"] <= window].merge(picks, on=["unique_id", "model"])
        .groupby(["unique_id", "window", "step"], as_index=False)
        .agg(ds=("ds", "first"), cutoff=("cutoff", "first"), y=("y", "first"), forecast=("forecast", "mean"))
        .merge(scales, on=["unique_id", "window"], how="left")
    )  # fmt: skip
    mean["scale"] = mean["scale"].fillna(0.0)  # constant history: no spread to learn from
    # Every candidate's errors on the earlier windows, not only the chosen ones': more samples and no
    # optimism from having picked the models on those same windows.
    past = stacked[stacked["window"] < window].merge(scales, on=["unique_id", "window"], how="left")
    scaled = (past["y"] - past["forecast"]) / past["scale"].where(past["scale"] > 0)
    tail = (100 - LEVEL) / 200
    bounds = scaled.groupby(past["step"]).quantile([tail, 1 - tail]).unstack()
    current = mean[mean["window"] == window]
    low = current["step"].map(bounds[tail]).fillna(0.0).to_numpy()
    high = current["step"].map(bounds[1 - tail]).fillna(0.0).to_numpy()
    spread = current["scale"].to_numpy()
    floor = 0.0 if (stacked["y"] >= 0).all() else -np.inf
    return current.assign(
        lo=np.maximum(current["forecast"] + low * spread, floor),
        hi=np.maximum(current["forecast"] + high * spread, floor),
    )[["unique_id", "ds", "cutoff", "y", "forecast", "lo", "hi", "window", "step"]]


def score(run: Any, scales: Any) -> dict[str, float]:
    """Every metric over the test windows (all but the first, which only served to choose)."""
    test = run[run["window"] > 0]
    errors = per_window_errors(test, scales)
    actual, forecast = test["y"].to_numpy(), test["forecast"].to_numpy()
    low, high = test["lo"].to_numpy(), test["hi"].to_numpy()
    has_interval = np.isfinite(low) & np.isfinite(high)
    return {
        "mase": _finite_mean(errors["mase"]),
        "smape": float(errors["smape"].mean()),
        "rmsse": _finite_mean(errors["rmsse"]),
        "wape": metrics.wape(actual, forecast),
        "bias": metrics.bias(actual, forecast),
        "pinball": metrics.interval_pinball(
            actual[has_interval], low[has_interval], high[has_interval], LEVEL
        ),
        "coverage80": metrics.coverage(actual, low, high),
    }


def _finite_mean(values: Any) -> float:
    """Series whose training part is constant have no MASE/RMSSE scale: they are left out (as in M5)."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("nan")


def _plan_notes(plan: BacktestPlan) -> list[str]:
    return [
        f"{plan.windows - 1} test window(s) of {plan.horizon} points per series after one selection window",
        f"MASE/RMSSE scaled by the seasonal naive (period {plan.season_length}) of the training part",
        f"{LEVEL}% intervals: the model's own, or conformal from {CONFORMAL_WINDOWS} earlier windows",
        f"auto: per series, the mean of the (up to) {COMBINE} models with the lowest MAE on the earlier "
        f"windows, within {TOLERANCE:.0%} of the best; "
        "its interval from all candidates' scaled errors on the earlier windows, pooled across series",
    ]
