"""The forecasting models and their rolling-origin backtest, each giving one frame of the same shape.

Local models come from statsforecast (baselines, AutoETS, AutoARIMA, MSTL, the intermittent-demand family),
the global models are LightGBM and XGBoost through mlforecast (XGBoost also on Spark through mlforecast's
distributed backend, ``shopsight.engines.spark.mlforecast``). Every backtest frame has ``unique_id, ds,
cutoff, y, forecast, lo, hi`` where ``lo``/``hi`` bound the 80% prediction interval: the model's own when
it has one, otherwise conformal (the spread of its errors in earlier windows of the training part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd  # type: ignore[import-untyped]

from shopsight.errors import ShopSightError
from shopsight.ml.forecast.holidays import HolidayCalendar
from shopsight.ml.forecast.names import DEFAULT_MODELS as DEFAULT_MODELS
from shopsight.ml.forecast.names import MODEL_NAMES as MODEL_NAMES
from shopsight.ml.forecast.names import OPT_IN_MODELS as OPT_IN_MODELS

LEVEL = 80
CONFORMAL_WINDOWS = 2
SEED = 0
LIGHTGBM_MODELS = ("lightgbm", "lightgbm_holidays", "lightgbm_price")
PRICE_MODELS = ("lightgbm_price",)
DISCOUNT = 0.95  # a price under 95% of its recent median counts as a discount
GLOBAL_MODELS = (*LIGHTGBM_MODELS, "xgboost")
LIGHTGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 200, "learning_rate": 0.05, "num_leaves": 31, "min_child_samples": 20, "subsample": 0.8,
    "subsample_freq": 1, "colsample_bytree": 0.8, "random_state": SEED,
}  # fmt: skip
XGBOOST_PARAMS: dict[str, Any] = {
    "n_estimators": 200, "learning_rate": 0.05, "max_depth": 6, "subsample": 1.0, "tree_method": "hist",
    "random_state": SEED,
}  # fmt: skip


class ModelError(ShopSightError):
    """A model name is unknown or a model cannot run on the given series."""


@dataclass(frozen=True)
class BacktestPlan:
    """Rolling origin: ``windows`` consecutive windows of ``horizon`` points at the end of each series."""

    freq: str | int
    season_lengths: tuple[int, ...]
    horizon: int
    windows: int
    non_negative: bool = True
    holidays: HolidayCalendar | None = None  # the series' public holidays, for lightgbm_holidays

    @property
    def season_length(self) -> int:
        """The main seasonal period."""
        return self.season_lengths[0]


class StatsBackend(Protocol):
    """Where statsforecast runs: in this process (:class:`LocalStats`) or distributed (Spark via fugue,
    ``shopsight.engines.spark.forecast``). Both take and return pandas frames in the Nixtla layout."""

    @property
    def name(self) -> str:
        """``local``, ``spark``, ..."""
        ...

    def cross_validation(
        self, *, models: list[Any], freq: str | int, frame: Any, horizon: int, windows: int, level: int
    ) -> Any:
        """``windows`` consecutive windows of ``horizon`` points: ``unique_id, ds, cutoff, y`` + models."""
        ...

    def forecast(self, *, models: list[Any], freq: str | int, frame: Any, horizon: int, level: int) -> Any:
        """The next ``horizon`` points of every series: ``unique_id, ds`` + one column per model."""
        ...


class GlobalBackend(Protocol):
    """Where the global (one model for all series) models run: here (:class:`LocalGlobal`) or on Spark
    (``shopsight.engines.spark.mlforecast``). Both give the standard backtest frame."""

    def backtest(self, name: str, frame: Any, plan: BacktestPlan) -> Any:
        """``unique_id, ds, cutoff, y, forecast, lo, hi`` of global model ``name`` over the plan's windows."""
        ...


@dataclass(frozen=True)
class LocalGlobal:
    """mlforecast in this process."""

    def backtest(self, name: str, frame: Any, plan: BacktestPlan) -> Any:
        """LightGBM (with or without holidays) or XGBoost on the plan's windows, conformal intervals."""
        return _global(frame, plan, name)


@dataclass(frozen=True)
class LocalStats:
    """statsforecast in this process on ``n_jobs`` worker processes."""

    n_jobs: int = 1
    name: str = "local"

    def cross_validation(
        self, *, models: list[Any], freq: str | int, frame: Any, horizon: int, windows: int, level: int
    ) -> Any:
        """Rolling-origin forecasts, one fit per series and window."""
        from statsforecast import StatsForecast

        engine = StatsForecast(models=models, freq=freq, n_jobs=self.n_jobs)
        return engine.cross_validation(
            h=horizon, df=frame, n_windows=windows, step_size=horizon, level=[level]
        )

    def forecast(self, *, models: list[Any], freq: str | int, frame: Any, horizon: int, level: int) -> Any:
        """Forecasts after the end of every series."""
        from statsforecast import StatsForecast

        engine = StatsForecast(models=models, freq=freq, n_jobs=self.n_jobs)
        return engine.forecast(df=frame, h=horizon, level=[level])


def check_names(names: list[str]) -> list[str]:
    """The names in catalogue order, or a clear error for an unknown one."""
    unknown = sorted(set(names) - set(MODEL_NAMES))
    if unknown:
        raise ModelError(f"unknown model {', '.join(unknown)}; choose among {', '.join(MODEL_NAMES)}")
    return [name for name in MODEL_NAMES if name in names]


def applicable(name: str, plan: BacktestPlan) -> bool:
    """MSTL needs several seasonal periods; the rest always runs."""
    return name != "mstl" or len(plan.season_lengths) > 1


def backtest(
    name: str, frame: Any, plan: BacktestPlan, *, stats: StatsBackend | None = None,
    ml: GlobalBackend | None = None,
) -> Any:  # fmt: skip
    """Forecasts of model ``name`` for each window, every fit seeing only the points before its cutoff.

    ``stats`` runs the statsforecast models and ``ml`` the global ones (default: both in this process).
    """
    if name in GLOBAL_MODELS:
        result = (ml or LocalGlobal()).backtest(name, frame, plan)
    else:
        result = _statistical(name, frame, plan, stats or LocalStats())
    if plan.non_negative:  # units cannot be negative: clip forecasts and interval bounds
        result[["forecast", "lo", "hi"]] = result[["forecast", "lo", "hi"]].clip(lower=0.0)
    return result


def _statistical(name: str, frame: Any, plan: BacktestPlan, stats: StatsBackend) -> Any:
    result = stats.cross_validation(
        models=[statistical_model(name, plan)], freq=plan.freq, frame=frame, horizon=plan.horizon,
        windows=plan.windows, level=LEVEL,
    )  # fmt: skip
    return standard_frame(result, name)


def forecast(names: list[str], frame: Any, plan: BacktestPlan, *, stats: StatsBackend | None = None) -> Any:
    """The next ``plan.horizon`` points of every series by each statsforecast model in ``names``.

    One statsforecast call fits every model (no per-model passes over the data); the result is the
    wide Nixtla frame ``unique_id, ds, <model>, <model>-lo-80, <model>-hi-80``, floored at 0 for units.
    """
    models = [statistical_model(name, plan) for name in check_names(names)]
    backend = stats or LocalStats()
    result = backend.forecast(models=models, freq=plan.freq, frame=frame, horizon=plan.horizon, level=LEVEL)
    if plan.non_negative:  # only the columns that go below 0 (lower bounds, mostly): 30k series add no copy
        lowest = result[result.columns[2:]].min()
        negative = list(lowest.index[lowest < 0])
        if negative:
            result[negative] = result[negative].clip(lower=0.0)
    return result


def statistical_model(name: str, plan: BacktestPlan) -> Any:
    """The statsforecast model called ``name``; conformal intervals where it has no own intervals."""
    from statsforecast import models as sf
    from statsforecast.utils import ConformalIntervals

    season = plan.season_length
    conformal = ConformalIntervals(h=plan.horizon, n_windows=CONFORMAL_WINDOWS)
    builders: dict[str, Callable[[], Any]] = {
        "naive": lambda: sf.Naive(alias=name),
        "seasonal_naive": lambda: sf.SeasonalNaive(season_length=season, alias=name),
        "window_average": lambda: sf.WindowAverage(
            window_size=season if season > 1 else 4, alias=name, prediction_intervals=conformal
        ),
        "auto_ets": lambda: sf.AutoETS(season_length=season, alias=name),
        "auto_arima": lambda: sf.AutoARIMA(season_length=season, approximation=True, alias=name),
        "mstl": lambda: sf.MSTL(season_length=list(plan.season_lengths), alias=name),
        "croston": lambda: sf.CrostonClassic(alias=name, prediction_intervals=conformal),
        "adida": lambda: sf.ADIDA(alias=name, prediction_intervals=conformal),
        "imapa": lambda: sf.IMAPA(alias=name, prediction_intervals=conformal),
        "tsb": lambda: sf.TSB(alpha_d=0.2, alpha_p=0.2, alias=name, prediction_intervals=conformal),
    }
    if name not in builders:
        raise ModelError(f"{name} is not a statsforecast model")
    return builders[name]()


def global_features(plan: BacktestPlan, alias: str) -> dict[str, Any]:
    """What global model ``alias`` sees: lags, rolling means of the last season (and of the season ending
    a horizon ago), calendar features (and for ``lightgbm_holidays`` the plan's public holidays), each
    series standardised."""
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.target_transforms import LocalStandardScaler

    window = plan.season_length if plan.season_length > 1 else 4
    return {
        "freq": plan.freq,
        "lags": lightgbm_lags(plan),
        "lag_transforms": {
            1: [RollingMean(window_size=window)],
            plan.horizon: [RollingMean(window_size=window)],
        },
        "date_features": [*calendar_features(plan.freq), *_holiday_features(plan, alias)],
        "target_transforms": [LocalStandardScaler()],
    }


def _holiday_features(plan: BacktestPlan, alias: str) -> list[Any]:
    if alias != "lightgbm_holidays":
        return []
    if plan.holidays is None:
        raise ModelError("lightgbm_holidays needs the series' holiday calendar (--holidays, e.g. GB-ENG)")
    return list(plan.holidays.features(plan.freq))


def global_regressor(name: str) -> Any:
    """The scikit-learn regressor of global model ``name`` (one thread: series-parallel work is elsewhere)."""
    if name == "xgboost":
        from xgboost import XGBRegressor

        return XGBRegressor(**XGBOOST_PARAMS, n_jobs=1)
    from lightgbm import LGBMRegressor

    return LGBMRegressor(**LIGHTGBM_PARAMS, n_jobs=1, verbosity=-1)


def _global(frame: Any, plan: BacktestPlan, alias: str) -> Any:
    """One model for all series (``global_features``); conformal intervals from the two windows before
    each cutoff. Columns of ``frame`` besides ``unique_id, ds, y`` are dynamic features
    (``price_features``)."""
    from mlforecast import MLForecast
    from mlforecast.utils import PredictionIntervals

    if alias in PRICE_MODELS and "price_vs_recent" not in frame.columns:
        raise ModelError(f"{alias} needs the series' prices (online-retail SKU datasets have them)")
    features = global_features(plan, alias)
    engine = MLForecast(models={alias: global_regressor(alias)}, **features)
    result = engine.cross_validation(
        df=frame, n_windows=plan.windows, h=plan.horizon, step_size=plan.horizon, level=[LEVEL],
        prediction_intervals=PredictionIntervals(n_windows=CONFORMAL_WINDOWS, h=plan.horizon),
        static_features=[],
    )  # fmt: skip
    return standard_frame(result, alias)


def price_features(prices: Any, plan: BacktestPlan) -> Any:
    """``unique_id, ds, price_vs_recent, discounted``: the price ``plan.horizon`` periods ago over its
    median of the periods before, and whether that was a discount. Lagged by the horizon, every value of
    a forecast period is known at the cutoff (no look-ahead), as a planned price would be."""
    recent = max(4 * plan.season_length, 8)
    ordered = prices.sort_values(["unique_id", "ds"], ignore_index=True)
    by_series = ordered.groupby("unique_id")["price"]
    lagged = by_series.shift(plan.horizon)
    reference = lagged.groupby(ordered["unique_id"]).transform(
        lambda p: p.shift(1).rolling(recent, min_periods=1).median()
    )
    ratio = (lagged / reference).fillna(1.0)
    return pd.DataFrame({
        "unique_id": ordered["unique_id"], "ds": ordered["ds"], "price_vs_recent": ratio.astype(float),
        "discounted": (ratio < DISCOUNT).astype(float),
    })  # fmt: skip


def lightgbm_lags(plan: BacktestPlan) -> list[int]:
    """Recent lags plus one and two of every seasonal period (weekly data without a season: a quarter)."""
    seasonal = [k * m for m in plan.season_lengths if m > 1 for k in (1, 2)]
    return sorted({1, 2, 3, *(seasonal or [4, 8, 13])})


def calendar_features(freq: str | int) -> list[str]:
    """Calendar features that vary within the frequency (none for integer time)."""
    if isinstance(freq, int):
        return []
    base = str(freq).split("-")[0].upper()
    by_freq = {"H": ["hour", "dayofweek"], "D": ["dayofweek", "day", "month"], "W": ["week", "month"]}
    return by_freq.get(base, ["month"])


def standard_frame(result: Any, alias: str) -> Any:
    """A Nixtla result's columns for ``alias`` as the backtest frame ``unique_id, ds, cutoff, y, forecast,
    lo, hi``."""
    frame = pd.DataFrame(
        {
            "unique_id": result["unique_id"].astype(str).to_numpy(),
            "ds": result["ds"].to_numpy(),
            "cutoff": result["cutoff"].to_numpy(),
            "y": result["y"].astype(float).to_numpy(),
            "forecast": result[alias].astype(float).to_numpy(),
            "lo": result[f"{alias}-lo-{LEVEL}"].astype(float).to_numpy(),
            "hi": result[f"{alias}-hi-{LEVEL}"].astype(float).to_numpy(),
        }
    )
    return frame
