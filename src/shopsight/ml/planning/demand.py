"""Daily demand forecasts per series with 80% and 95% intervals, the model chosen per series by backtest.

Candidates are cheap statsforecast models (by default the baselines and the intermittent-demand family),
plus the historic average, which is also the fallback for series too sparse to choose by backtest.
A rolling-origin backtest over the last ``windows`` windows scores every candidate on every series by mean
squared error, which rewards the expected demand a stock plan needs (absolute error rewards the median:
zero for the many SKUs that sell on few days). The chosen model is then fitted on the whole history.

Intervals are split conformal: per horizon step, the 80% / 95% conformal quantiles (``conformal_quantile``)
of the chosen models' absolute backtest errors, each divided by its series' scale (in-sample seasonal naive
MAE before the cutoff) and pooled across series, times the series' scale on either side of its forecast;
steps beyond the backtest window take the last step's width. Symmetric bounds floored at zero keep
lo95 <= lo80 <= mean <= hi80 <= hi95.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.ml.forecast import metrics
from shopsight.ml.forecast.evaluate import window_scales, with_window
from shopsight.ml.forecast.models import BacktestPlan, ModelError, applicable, check_names, statistical_model
from shopsight.ml.planning.inputs import PlanDataError
from shopsight.ml.planning.names import CANDIDATES as CANDIDATES
from shopsight.ml.planning.names import LEVELS

FALLBACK = "historic_average"  # every day's mean so far: the long-run rate of a sparse series' sales
SEASON = 7
FREQ = "D"


@dataclass(frozen=True)
class DemandSetup:
    """How far to forecast, how to backtest, and the candidate models."""

    horizon: int = 28
    windows: int = 2
    models: tuple[str, ...] = CANDIDATES
    min_train: int = 14  # days every backtest fit sees at least
    min_sales_days: int = 2  # in the backtest windows, for the choice to be the backtest's


@dataclass(frozen=True)
class DemandForecasts:
    """The forecasts, each series' chosen model with its backtest error, and that model's backtest errors."""

    forecasts: pd.DataFrame  # unique_id, ds, step, mean, lo80, hi80, lo95, hi95
    chosen: pd.DataFrame  # unique_id, model, backtest_rmse, baseline_rmse, backtest_sales_days
    errors: pd.DataFrame  # unique_id, window, step, error (actual - forecast of the chosen model)
    backtest_horizon: int
    models: tuple[str, ...]


def candidate_names(names: tuple[str, ...]) -> list[str]:
    """The candidates in catalogue order; only statsforecast models that run on daily data."""
    checked = check_names(list(names))
    plan = BacktestPlan(freq=FREQ, season_lengths=(SEASON,), horizon=1, windows=1)
    if "lightgbm" in checked:
        raise ModelError("the plan runs statsforecast models only; lightgbm is for `forecast evaluate`")
    return [name for name in checked if applicable(name, plan)]


def backtest_horizon(length: int, setup: DemandSetup) -> int:
    """The backtest window: the forecast horizon, shortened so every fit keeps ``min_train`` days."""
    room = (length - setup.min_train) // setup.windows
    if room < 1:
        needed = setup.min_train + setup.windows
        raise PlanDataError(f"{length} days of sales history are too few to backtest; need {needed}")
    return min(setup.horizon, room)


def forecast_demand(frame: pd.DataFrame, setup: DemandSetup) -> DemandForecasts:
    """Backtest the candidates, choose one per series, forecast ``setup.horizon`` days with intervals."""
    series = frame[["unique_id", "ds", "y"]]
    names = [*candidate_names(setup.models), FALLBACK]
    window = backtest_horizon(int(series.groupby("unique_id").size().min()), setup)
    run = _cross_validation(series, names, window, setup.windows)
    chosen = choose(run, names, setup.min_sales_days)
    errors = chosen_errors(run, chosen["model"], names)
    widths = interval_widths(series, errors)
    future = _fit_and_forecast(series, names, setup.horizon, chosen["model"])
    forecasts = with_intervals(future, series_scales(series), widths)
    return DemandForecasts(forecasts, chosen, errors, window, tuple(names))


def _models(names: list[str], horizon: int) -> list[Any]:
    from statsforecast.models import HistoricAverage

    plan = BacktestPlan(freq=FREQ, season_lengths=(SEASON,), horizon=horizon, windows=1)
    return [
        HistoricAverage(alias=name) if name == FALLBACK else statistical_model(name, plan) for name in names
    ]


def _cross_validation(series: pd.DataFrame, names: list[str], horizon: int, windows: int) -> pd.DataFrame:
    """Every candidate on every window in one statsforecast pass (no interval level: point forecasts)."""
    from statsforecast import StatsForecast

    engine = StatsForecast(models=_models(names, horizon), freq=FREQ, n_jobs=1)
    run = engine.cross_validation(h=horizon, df=series, n_windows=windows, step_size=horizon)
    run[names] = run[names].clip(lower=0.0)  # units are never negative
    run["unique_id"] = run["unique_id"].astype(str)
    return with_window(run)


def choose(run: pd.DataFrame, names: list[str], min_sales_days: int = 2) -> pd.DataFrame:
    """Per series the candidate with the lowest backtest MSE (ties: the earlier, simpler one).

    A series that sold on fewer than ``min_sales_days`` days of its backtest windows gives the backtest
    nothing to tell the models apart by (every zero forecast would win); it gets ``FALLBACK``, the
    long-run rate of its sales (Croston's would be a whole unit a day after a single sale).
    """
    squared = run[names].sub(run["y"], axis=0).pow(2).groupby(run["unique_id"]).mean()
    best = squared.idxmin(axis=1)
    sales_days = (run["y"] > 0).groupby(run["unique_id"]).sum().reindex(squared.index)
    if FALLBACK in names:
        best = best.where(sales_days >= min_sales_days, FALLBACK)
    rows = np.arange(len(squared))
    chosen_mse = squared.to_numpy()[rows, [names.index(m) for m in best]]
    baseline = squared["seasonal_naive"] if "seasonal_naive" in squared else squared.iloc[:, 0]
    return pd.DataFrame(
        {
            "unique_id": squared.index.astype(str),
            "model": best.to_numpy(),
            "backtest_rmse": np.sqrt(chosen_mse),
            "baseline_rmse": np.sqrt(baseline.to_numpy()),
            "backtest_sales_days": sales_days.to_numpy(dtype=int),
        }
    ).set_index("unique_id", drop=False)


def picked(frame: pd.DataFrame, model: pd.Series, names: list[str]) -> np.ndarray:
    """Per row, the column of ``names`` that ``model`` (indexed by series) chose for the row's series."""
    codes = pd.Categorical(frame["unique_id"].map(model), categories=names).codes
    return np.asarray(np.choose(codes, [frame[name].to_numpy(dtype=float) for name in names]), dtype=float)


def chosen_errors(run: pd.DataFrame, model: pd.Series, names: list[str]) -> pd.DataFrame:
    """Actual minus forecast of each series' chosen model, per window and step (1-based)."""
    forecast = picked(run, model, names)
    return pd.DataFrame(
        {
            "unique_id": run["unique_id"].to_numpy(),
            "window": run["window"].to_numpy(),
            "cutoff": run["cutoff"].to_numpy(),
            "step": run["step"].to_numpy() + 1,
            "error": run["y"].to_numpy(dtype=float) - forecast,
        }
    )


def interval_widths(series: pd.DataFrame, errors: pd.DataFrame) -> pd.DataFrame:
    """Per step: the 80% and 95% quantiles of the scaled absolute errors, pooled across series."""
    scales = window_scales(series, errors, SEASON)
    scored = errors.merge(scales, on=["unique_id", "window"], how="left")
    usable = scored[np.isfinite(scored["scale"]) & (scored["scale"] > 0)]
    steps = pd.Index(sorted(errors["step"].unique()), name="step")
    if usable.empty:  # every series constant before its cutoffs: no spread to learn from
        return pd.DataFrame({f"q{level}": 0.0 for level in LEVELS}, index=steps)
    scaled = usable["error"].abs() / usable["scale"]
    quantiles = {
        f"q{level}": scaled.groupby(usable["step"])
        .agg(conformal_quantile, level / 100)
        .reindex(steps)
        .ffill()
        .fillna(0.0)
        for level in LEVELS
    }
    return pd.DataFrame(quantiles, index=steps)


def conformal_quantile(scores: pd.Series, level: float) -> float:
    """Split conformal's quantile of ``n`` scores: the ceil((n + 1) level)-th smallest, which covers a new
    point with probability >= ``level``; the largest score when ``n`` is too small for that (under 19
    scores for 95%: the exact answer would be an unbounded interval).

    A plain interpolated quantile of a few tied scores gave a short history the same 80% and 95% widths.
    """
    ordered = np.sort(scores.to_numpy(dtype=float))
    rank = min(math.ceil((len(ordered) + 1) * level), len(ordered))
    return float(ordered[rank - 1])


def series_scales(series: pd.DataFrame) -> pd.Series:
    """Each series' in-sample seasonal naive MAE over its whole history (0 when constant)."""
    scales = {
        str(key): metrics.seasonal_scale(group["y"].to_numpy(dtype=float), SEASON)
        for key, group in series.groupby("unique_id", sort=False)
    }
    return pd.Series(scales, dtype=float).fillna(0.0)


def _fit_and_forecast(series: pd.DataFrame, names: list[str], horizon: int, model: pd.Series) -> pd.DataFrame:
    from statsforecast import StatsForecast

    engine = StatsForecast(models=_models(names, horizon), freq=FREQ, n_jobs=1)
    future = engine.forecast(df=series, h=horizon)
    future["unique_id"] = future["unique_id"].astype(str)
    mean = picked(future, model, names)
    future = future[["unique_id", "ds"]].assign(mean=np.maximum(mean, 0.0))
    return future.assign(step=future.groupby("unique_id").cumcount() + 1)


def with_intervals(future: pd.DataFrame, scales: pd.Series, widths: pd.DataFrame) -> pd.DataFrame:
    """``mean`` -/+ the step's width times the series' scale, floored at zero, for every level."""
    last = int(widths.index.max())
    step = future["step"].clip(upper=last)
    scale = future["unique_id"].map(scales).fillna(0.0).to_numpy()
    bounds = {}
    for level in LEVELS:
        half = step.map(widths[f"q{level}"]).to_numpy() * scale
        bounds[f"lo{level}"] = np.maximum(future["mean"].to_numpy() - half, 0.0)
        bounds[f"hi{level}"] = future["mean"].to_numpy() + half
    columns = ["unique_id", "ds", "step", "mean", "lo80", "hi80", "lo95", "hi95"]
    return future.assign(**bounds)[columns]
