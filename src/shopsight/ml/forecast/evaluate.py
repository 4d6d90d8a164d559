"""Rolling-origin backtest of every model and of ``auto``, the model choice by backtest, one row per model.

The backtest runs ``windows`` test windows of ``horizon`` points at the end of each series, after one or
more selection windows that only serve to choose: for each test window, ``auto`` chooses from the errors of
all windows before it, so the choice never sees the points it is scored on. Every metric is computed on
the test windows only (the last ``windows``).

How ``auto`` chooses depends on how many series there are. With many, per series (the mean of its best
models). With fewer than ``SMALL_SET`` series a per-series choice rests on too few errors and picks noise,
so ``auto`` takes one model for all of them, the one with the lowest MASE pooled over every series and
earlier window, and looks back over up to ``SMALL_SET_SELECTION`` selection windows (see
docs/forecasting.md for the figures behind both numbers).
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
from shopsight.ml.forecast.names import AUTO as AUTO
from shopsight.ml.forecast.names import METRIC_NAMES as METRIC_NAMES

COMBINE = 5  # auto averages each series' best five models: steadier than a single pick
TOLERANCE = 0.5  # ... of those within 50% of the best one's error
SMALL_SET = 50  # fewer series than this: one model for all, chosen on pooled errors
SMALL_SET_SELECTION = 4  # selection windows for a small set, when its shortest series has room for them


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
    levels = None if reconcile == "none" else hierarchy.build(data)
    backtested = data if levels is None else replace(data, frame=levels.frame)  # every level's series
    horizon, windows = horizon or data.horizon, windows or data.windows
    selection = selection_windows(backtested.frame, horizon, windows)
    plan = BacktestPlan(
        freq=data.freq, season_lengths=data.season_lengths, horizon=horizon, windows=windows + selection,
        non_negative=bool((data.frame["y"] >= 0).all()), holidays=data.holidays,
    )  # fmt: skip
    names = [n for n in names if applicable(n, plan)]
    if data.prices is None or levels is not None:  # price features exist for the SKUs of the data only
        names = [n for n in names if n not in PRICE_MODELS]
    if levels is None:
        runs, seconds = _run_all(names, _frames(names, data, plan), plan, progress, stats, ml)
        return summarize(data, plan, runs, seconds, selection=selection)
    runs, seconds = _run_all(names, dict.fromkeys(names, levels.frame), plan, progress, stats, ml)
    return summarize(
        backtested, plan, runs, seconds, selection=selection, hierarchy=levels, reconcile=reconcile
    )


def selection_windows(frame: Any, horizon: int, windows: int) -> int:
    """How many windows before the tests only serve to choose: one, or for a small set of series up to
    ``SMALL_SET_SELECTION`` while the first fit of its shortest series still sees ``horizon x (windows +
    1)`` points, what the datasets' length check guarantees with one selection window."""
    sizes = frame.groupby("unique_id").size()
    if len(sizes) >= SMALL_SET:
        return 1
    room = int(sizes.min()) // horizon - 2 * windows - 1
    return max(1, min(SMALL_SET_SELECTION, room))


def summarize(
    data: SeriesSet, plan: BacktestPlan, runs: dict[str, Any], seconds: dict[str, float], *,
    selection: int = 1, hierarchy: Hierarchy | None = None, reconcile: str = "none",
) -> Evaluation:  # fmt: skip
    """Add ``auto`` to the models' backtests and score them all on the test windows, those after the first
    ``selection`` (per level if ``hierarchy``, after reconciling every model's forecasts with
    ``reconcile``)."""
    scales = window_scales(data.frame, next(iter(runs.values())), plan.season_length)
    series = data.frame["unique_id"].nunique()
    pooled = series < SMALL_SET
    auto, chosen = choose(runs, scales, selection=selection, pooled=pooled)
    runs, seconds = {**runs, AUTO: auto}, {**seconds, AUTO: sum(seconds.values())}
    notes = [*data.notes, *_plan_notes(plan, selection, pooled)]
    tests = plan.windows - selection
    if hierarchy is None:
        results = [
            ModelScore(name, score(run, scales, selection), seconds[name]) for name, run in runs.items()
        ]
        return Evaluation(data.name, series, plan.horizon, tests, results, chosen, notes)
    results, level_notes = _level_scores(runs, seconds, scales, hierarchy, reconcile, plan, selection)
    return Evaluation(
        data.name, series, plan.horizon, tests, results, chosen, [*notes, *level_notes],
        bottom_level=hierarchy.bottom,
    )  # fmt: skip


def _level_scores(
    runs: dict[str, Any], seconds: dict[str, float], scales: Any, levels: Hierarchy, method: str,
    plan: BacktestPlan, selection: int,
) -> tuple[list[ModelScore], list[str]]:  # fmt: skip
    """Every model's reconciled scores per level, and a note per level comparing ``auto`` to its base."""
    coherent = hierarchy.reconcile(runs, levels, method, non_negative=plan.non_negative)
    coherent = recalibrated(coherent, runs, scales, selection, floor=0.0 if plan.non_negative else -np.inf)
    results, notes = [], []
    for level, ids in levels.levels.items():
        for name, run in coherent.items():
            level_run = run[run["unique_id"].isin(ids)]
            results.append(ModelScore(name, score(level_run, scales, selection), seconds[name], level))
        base = score(runs[AUTO][runs[AUTO]["unique_id"].isin(ids)], scales, selection)["mase"]
        after = next(r for r in results if r.model == AUTO and r.level == level).metrics["mase"]
        notes.append(f"{level} ({len(ids)} series): auto MASE {after:.3f} reconciled vs {base:.3f} base")
    how = "bottom-up" if method == "bottom_up" else "MinTrace (wls_var on the earlier windows' errors)"
    notes.append(f"reconciled {how} with hierarchicalforecast: {' -> '.join(levels.levels)}")
    notes.append("80% intervals of the forecasts reconciling moved: conformal on reconciled earlier errors")
    return results, notes


def recalibrated(
    coherent: dict[str, Any], base: dict[str, Any], scales: Any, selection: int, *, floor: float
) -> dict[str, Any]:  # fmt: skip
    """Every model's reconciled backtest with the 80% intervals of the forecasts reconciling moved (every
    one with MinTrace, the upper levels' with bottom-up) calibrated again on reconciled errors: the move
    is one their own interval never allowed for (MinTrace pulls a small country towards the total), so
    shifted bounds under-cover. Split conformal on the earlier windows' reconciled errors: ``auto``'s from
    every candidate in contention, as before reconciling, another model's from its own. Forecasts left
    where they were, and windows with no earlier one, keep their bounds."""
    others = {name: run for name, run in coherent.items() if name != AUTO}
    stacked = pd.concat([run.assign(model=name) for name, run in others.items()], ignore_index=True)
    errors = pd.concat([per_window_errors(run, scales).assign(model=name) for name, run in others.items()])
    on = ["unique_id", "window"]
    result = {}
    for name, run in coherent.items():
        moved = _moved(run, base[name])
        parts = [run[run["window"] < selection]]
        for window in sorted(run.loc[run["window"] >= selection, "window"].unique()):
            current = run[run["window"] == window]
            keep = ~moved[current.index].to_numpy()
            past = (
                _contenders_past(stacked, errors[errors["window"] < window], window)
                if name == AUTO
                else run[run["window"] < window]
            )
            if len(past) and not keep.all():
                low, high = conformal_bounds(
                    current.merge(scales, on=on, how="left"), past.merge(scales, on=on, how="left"), floor
                )
                current = current.assign(
                    lo=np.where(keep, current["lo"], low), hi=np.where(keep, current["hi"], high)
                )
            parts.append(current)
        result[name] = pd.concat(parts).sort_values(["unique_id", "window", "ds"], ignore_index=True)
    return result


def _moved(coherent: Any, base: Any) -> Any:
    """For each row of ``coherent`` (same index): whether reconciling changed its forecast."""
    keys = ["unique_id", "window", "ds"]
    before = coherent[keys].merge(base[[*keys, "forecast"]], on=keys, how="left")["forecast"].to_numpy()
    after = coherent["forecast"].to_numpy()
    return pd.Series(~np.isclose(after, before, rtol=1e-9, atol=1e-9), index=coherent.index)


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


def choose(
    runs: dict[str, Any], scales: Any, *, combine: int = COMBINE, selection: int = 1, pooled: bool = False
) -> tuple[Any, dict[str, int]]:
    """``auto`` for every window after the first ``selection``, chosen on the errors of the windows before it.

    Per series (default): the mean forecast of its (up to) ``combine`` models with the lowest mean
    absolute error, within ``TOLERANCE`` of the best. ``pooled``: one model for every series, the one with
    the lowest MASE over all series and earlier windows (a series the model has no forecast for takes the
    next best model that has one).

    The 80% interval is split conformal: the quantiles of the errors on the earlier windows of every
    candidate in contention (pooled MASE there within ``TOLERANCE`` of the best), scaled by each series'
    seasonal naive MAE and pooled across series per horizon step.
    """
    stacked = pd.concat([run.assign(model=name) for name, run in runs.items()], ignore_index=True)
    errors = pd.concat([per_window_errors(run, scales).assign(model=name) for name, run in runs.items()])
    order = {name: rank for rank, name in enumerate(runs)}  # ties go to the simpler, earlier model
    parts, firsts = [], []
    for window in sorted(errors["window"].unique())[selection:]:
        earlier = errors[errors["window"] < window]
        picks = (
            _pooled_picks(earlier, order, stacked[stacked["window"] == window])
            if pooled
            else _per_series_picks(earlier, order, combine)
        )
        firsts.append(picks.drop_duplicates("unique_id")["model"])
        parts.append(_combined(stacked, picks, scales, window, _contenders_past(stacked, earlier, window)))
    counts = pd.concat(firsts).value_counts()
    auto = pd.concat(parts, ignore_index=True).sort_values(["unique_id", "window", "ds"], ignore_index=True)
    return auto, {str(k): int(v) for k, v in counts.items()}


def _per_series_picks(earlier: Any, order: dict[str, int], combine: int) -> Any:
    """``unique_id, model``: each series' (up to) ``combine`` best models by MAE, within the tolerance."""
    mean = earlier.groupby(["unique_id", "model"], as_index=False)["mae"].mean()
    mean = mean.assign(rank=mean["model"].map(order)).sort_values(["unique_id", "mae", "rank"])
    best = mean.groupby("unique_id")["mae"].transform("min")
    close = mean[mean["mae"] <= best * (1 + TOLERANCE)]  # never average in a clearly worse model
    return close.groupby("unique_id").head(combine)[["unique_id", "model"]]


def _pooled_picks(earlier: Any, order: dict[str, int], current: Any) -> Any:
    """``unique_id, model``: for every series of ``current``, the model with the lowest pooled MASE that
    has a forecast for it."""
    pooled = _pooled_mase(earlier).reset_index()
    ranking = pooled.assign(rank=pooled["model"].map(order)).sort_values(["mase", "rank"])["model"].tolist()
    ranking += [name for name in order if name not in ranking]  # no finite MASE: after those with one
    offered = current[["unique_id", "model"]].drop_duplicates()
    offered = offered.assign(position=offered["model"].map({name: i for i, name in enumerate(ranking)}))
    return offered.sort_values(["unique_id", "position"]).drop_duplicates("unique_id")[["unique_id", "model"]]


def _contenders(earlier: Any) -> list[str]:
    """The models whose MASE pooled over every series and earlier window is within ``TOLERANCE`` of the
    best one's (all of them when no series has a MASE scale). A series may still pick a model outside
    them by its own errors; the interval, pooled across series, is calibrated on the contenders only."""
    pooled = _pooled_mase(earlier)
    if pooled.empty:
        return [str(name) for name in earlier["model"].unique()]
    return [str(name) for name in pooled.index[pooled <= pooled.min() * (1 + TOLERANCE)]]


def _pooled_mase(earlier: Any) -> Any:
    """Each model's MASE over the series and windows of ``earlier`` that every model has one for (a Series
    by model), so that a model without forecasts for some series (LightGBM skips too short ones) is not
    ranked on easier ones; over all it has when the models share none."""
    finite = earlier[np.isfinite(earlier["mase"])]
    models = finite.groupby(["unique_id", "window"])["model"].transform("nunique")
    shared = finite[models == finite["model"].nunique()]
    return (shared if len(shared) else finite).groupby("model")["mase"].mean()


def _contenders_past(stacked: Any, earlier: Any, window: int) -> Any:
    """The forecasts before ``window`` of every candidate in contention (``_contenders`` of the ``earlier``
    errors): what ``auto``'s interval is calibrated on. Every contender's, not only the chosen ones': more
    samples and no optimism from having picked the models on those same windows; but not those of a model
    far worse than the best (naive on hourly data), whose errors would widen the interval of a good
    forecast."""
    return stacked[(stacked["window"] < window) & stacked["model"].isin(_contenders(earlier))]


def _combined(stacked: Any, picks: Any, scales: Any, window: int, past: Any) -> Any:
    """The picked models' mean forecast for ``window`` and its interval, calibrated on the errors of
    ``past`` (the contenders' earlier forecasts)."""
    mean = (
        stacked[stacked["window"] <= window].merge(picks, on=["unique_id", "model"])
        .groupby(["unique_id", "window", "step"], as_index=False)
        .agg(ds=("ds", "first"), cutoff=("cutoff", "first"), y=("y", "first"), forecast=("forecast", "mean"))
        .merge(scales, on=["unique_id", "window"], how="left")
    )  # fmt: skip
    mean["scale"] = mean["scale"].fillna(0.0)  # constant history: no spread to learn from
    current = mean[mean["window"] == window]
    floor = 0.0 if (stacked["y"] >= 0).all() else -np.inf
    low, high = conformal_bounds(current, past.merge(scales, on=["unique_id", "window"], how="left"), floor)
    return current.assign(lo=low, hi=high)[
        ["unique_id", "ds", "cutoff", "y", "forecast", "lo", "hi", "window", "step"]
    ]


def conformal_bounds(current: Any, past: Any, floor: float) -> tuple[Any, Any]:
    """Split-conformal 80% bounds of ``current``'s forecasts: the quantiles of ``past``'s errors, each
    scaled by its series' seasonal naive MAE (``scale``) and pooled across series per horizon step, put
    back on each forecast's own scale. A step with no past error gets a zero-width interval."""
    scaled = (past["y"] - past["forecast"]) / past["scale"].where(past["scale"] > 0)
    tail = (100 - LEVEL) / 200
    bounds = scaled.groupby(past["step"]).quantile([tail, 1 - tail]).unstack()
    low = current["step"].map(bounds[tail]).fillna(0.0).to_numpy()
    high = current["step"].map(bounds[1 - tail]).fillna(0.0).to_numpy()
    spread = current["scale"].fillna(0.0).to_numpy()
    forecast = current["forecast"].to_numpy()
    return np.maximum(forecast + low * spread, floor), np.maximum(forecast + high * spread, floor)


def score(run: Any, scales: Any, selection: int = 1) -> dict[str, float]:
    """Every metric over the test windows (all but the first ``selection``, which only served to choose)."""
    test = run[run["window"] >= selection]
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


def _plan_notes(plan: BacktestPlan, selection: int, pooled: bool) -> list[str]:
    how = (
        f"auto: fewer than {SMALL_SET} series, so one model for all, the lowest MASE pooled over every "
        "series and earlier window; "
        if pooled
        else f"auto: per series, the mean of the (up to) {COMBINE} models with the lowest MAE on the earlier "
        f"windows, within {TOLERANCE:.0%} of the best; "
    )
    return [
        f"{plan.windows - selection} test window(s) of {plan.horizon} points per series after {selection} "
        "selection window(s)",
        f"MASE/RMSSE scaled by the seasonal naive (period {plan.season_length}) of the training part",
        f"{LEVEL}% intervals: the model's own, or conformal from {CONFORMAL_WINDOWS} earlier windows",
        how + f"its interval from the scaled errors on the earlier windows of every candidate within "
        f"{TOLERANCE:.0%} of the best pooled MASE there, pooled across series",
    ]
