"""Forecasting many series: ShopSight's forecast path vs calling statsforecast directly.

Both sides forecast the same in-memory long frame (``unique_id, ds, y``) ``--horizon`` days ahead with the
same statsforecast models, 80% intervals and ``n_jobs``: ours through
``shopsight.ml.forecast.models.forecast`` (model catalogue, one statsforecast call for every model,
non-negative floor), the baseline with ``StatsForecast(models, freq, n_jobs).forecast(df, h, level)``.
The runs alternate which side goes first and each side's median is compared; the goal is ours <= 1.1x.

The series are synthetic but shaped like the shop's: each draws the length, the share of days without a
sale and the mean units on a selling day of one real online-retail SKU (daily, from its first sale to
2011-12-08), with the weekly profile of the shop's sales (no Saturday trading). Without the dataset it
falls back to lengths of 120-373 days and 30-90% zero days.

Run: ``python -m benchmarks.forecast_scale [--series 30000] [--n-jobs 2] [--runs 2]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd

from shopsight.ml.forecast.datasets import ForecastDataError, retail_sales
from shopsight.ml.forecast.models import BacktestPlan, LocalStats, forecast, statistical_model
from shopsight.ml.recommend.datasets import datasets_dir

# AutoETS is opt-in (--models ...,auto_ets): about 40x the cost of the rest together, 30k series take hours
MODELS = "seasonal_naive,window_average,croston,adida,imapa,tsb"
END = pd.Timestamp("2011-12-08")
MIN_DAYS = 84  # conformal intervals need 2 windows of 14 days before the horizon, and some history
# Relative weight of each weekday (Monday first): the shop sends nothing on Saturdays.
WEEK = np.array([1.0, 1.1, 1.15, 1.3, 0.9, 0.0, 0.55])


def retail_profiles() -> Any:
    """Per real SKU: days from its first sale to the end, share of days without a sale, mean units."""
    try:
        sales = retail_sales(datasets_dir())
    except ForecastDataError:
        rng = np.random.default_rng(1)
        return pd.DataFrame(
            {"days": rng.integers(120, 374, 500), "zero_share": rng.uniform(0.3, 0.9, 500),
             "units": rng.gamma(2.0, 5.0, 500)}
        )  # fmt: skip
    sales = sales[sales["day"] <= END]
    per_sku = sales.groupby("sku").agg(
        first=("day", "min"), sale_days=("day", "nunique"), units=("units", "sum")
    )
    days = (END - per_sku["first"]).dt.days + 1
    profiles = pd.DataFrame(
        {"days": days, "zero_share": 1 - per_sku["sale_days"] / days,
         "units": per_sku["units"].clip(lower=1) / per_sku["sale_days"]}
    )  # fmt: skip
    return profiles[profiles["days"] >= MIN_DAYS].reset_index(drop=True)


def synthetic_series(count: int, profiles: Any, seed: int = 7) -> Any:
    """``count`` daily series ending on END, each shaped by a profile drawn with replacement."""
    rng = np.random.default_rng(seed)
    drawn = profiles.iloc[rng.integers(0, len(profiles), count)].reset_index(drop=True)
    lengths = drawn["days"].to_numpy(dtype=int)
    series = np.repeat(np.arange(count), lengths)
    offsets = np.concatenate([np.arange(n)[::-1] for n in lengths])  # days before END
    ds = END - pd.to_timedelta(offsets, unit="D")
    mean = drawn["units"].to_numpy()[series] * WEEK[ds.dayofweek.to_numpy()]
    selling = rng.random(len(series)) >= drawn["zero_share"].to_numpy()[series]
    units = rng.poisson(mean) * selling
    ids = np.char.add("sku", np.char.zfill(series.astype(str), 6))
    return pd.DataFrame({"unique_id": ids, "ds": ds, "y": units.astype(float)})


def direct(frame: Any, names: list[str], plan: BacktestPlan, n_jobs: int) -> float:
    from statsforecast import StatsForecast

    models = [statistical_model(name, plan) for name in names]
    started = time.perf_counter()
    StatsForecast(models=models, freq=plan.freq, n_jobs=n_jobs).forecast(df=frame, h=plan.horizon, level=[80])
    return time.perf_counter() - started


def ours(frame: Any, names: list[str], plan: BacktestPlan, n_jobs: int) -> float:
    started = time.perf_counter()
    forecast(names, frame, plan, stats=LocalStats(n_jobs=n_jobs))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=int(os.environ.get("BENCH_FORECAST_SERIES", "30000")))
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "2")))
    args = parser.parse_args()
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    profiles = retail_profiles()
    frame = synthetic_series(args.series, profiles)
    plan = BacktestPlan(freq="D", season_lengths=(7,), horizon=args.horizon, windows=1)
    print(f"forecast: {args.series:,} series ({len(frame):,} points, from {len(profiles):,} SKU profiles, "
          f"{(frame['y'] == 0).mean():.0%} zero days), h={args.horizon}, n_jobs={args.n_jobs}, "
          f"models {', '.join(names)}")  # fmt: skip
    base_times, our_times = [], []
    for run in range(args.runs):  # alternate which side goes first: no warm-up or order advantage
        if run % 2:
            our_times.append(ours(frame, names, plan, args.n_jobs))
        base_times.append(direct(frame, names, plan, args.n_jobs))
        if not run % 2:
            our_times.append(ours(frame, names, plan, args.n_jobs))
    base_s, ours_s = statistics.median(base_times), statistics.median(our_times)
    print(f"forecast: ours {ours_s:.1f} s vs statsforecast directly {base_s:.1f} s "
          f"-> ratio {ours_s / base_s:.3f} (goal <= 1.10); runs ours {[round(t, 1) for t in our_times]} "
          f"direct {[round(t, 1) for t in base_times]}")  # fmt: skip


if __name__ == "__main__":
    main()
