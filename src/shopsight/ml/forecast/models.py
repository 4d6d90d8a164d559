"""The forecasting models and their rolling-origin backtest, each giving one frame of the same shape.

Local models come from statsforecast (baselines, AutoETS, AutoARIMA, MSTL, the intermittent-demand family),
the global model is LightGBM through mlforecast. Every backtest frame has ``unique_id, ds, cutoff, y,
forecast, lo, hi`` where ``lo``/``hi`` bound the 80% prediction interval: the model's own when it has one,
otherwise conformal (the spread of its errors in earlier windows of the training part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd  # type: ignore[import-untyped]

from shopsight.errors import ShopSightError

LEVEL = 80
CONFORMAL_WINDOWS = 2
SEED = 0
MODEL_NAMES = (
    "naive",
    "seasonal_naive",
    "window_average",
    "auto_ets",
    "auto_arima",
    "mstl",
    "croston",
    "adida",
    "imapa",
    "tsb",
    "lightgbm",
)
# AutoARIMA is opt-in: on hourly data with a 24-period season it takes minutes per hundred series.
DEFAULT_MODELS = tuple(name for name in MODEL_NAMES if name != "auto_arima")


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

    @property
    def season_length(self) -> int:
        """The main seasonal period."""
        return self.season_lengths[0]


def check_names(names: list[str]) -> list[str]:
    """The names in catalogue order, or a clear error for an unknown one."""
    unknown = sorted(set(names) - set(MODEL_NAMES))
    if unknown:
        raise ModelError(f"unknown model {', '.join(unknown)}; choose among {', '.join(MODEL_NAMES)}")
    return [name for name in MODEL_NAMES if name in names]


def applicable(name: str, plan: BacktestPlan) -> bool:
    """MSTL needs several seasonal periods; the rest always runs."""
    return name != "mstl" or len(plan.season_lengths) > 1


def backtest(name: str, frame: Any, plan: BacktestPlan) -> Any:
    """Forecasts of model ``name`` for each window, every fit seeing only the points before its cutoff."""
    result = _lightgbm(frame, plan) if name == "lightgbm" else _statistical(name, frame, plan)
    if plan.non_negative:  # units cannot be negative: clip forecasts and interval bounds
        result[["forecast", "lo", "hi"]] = result[["forecast", "lo", "hi"]].clip(lower=0.0)
    return result


def _statistical(name: str, frame: Any, plan: BacktestPlan) -> Any:
    from statsforecast import StatsForecast

    model = statistical_model(name, plan)
    engine = StatsForecast(models=[model], freq=plan.freq, n_jobs=1)
    result = engine.cross_validation(
        h=plan.horizon, df=frame, n_windows=plan.windows, step_size=plan.horizon, level=[LEVEL]
    )
    return _standard(result, name)


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


def _lightgbm(frame: Any, plan: BacktestPlan) -> Any:
    """One LightGBM for all series on lags, rolling means and calendar features; conformal intervals."""
    from lightgbm import LGBMRegressor
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.target_transforms import LocalStandardScaler
    from mlforecast.utils import PredictionIntervals

    season = plan.season_length
    window = season if season > 1 else 4
    regressor = LGBMRegressor(
        n_estimators=200, learning_rate=0.05, num_leaves=31, min_child_samples=20, subsample=0.8,
        subsample_freq=1, colsample_bytree=0.8, random_state=SEED, n_jobs=1, verbosity=-1,
    )  # fmt: skip
    engine = MLForecast(
        models={"lightgbm": regressor},
        freq=plan.freq,
        lags=lightgbm_lags(plan),
        lag_transforms={
            1: [RollingMean(window_size=window)],
            plan.horizon: [RollingMean(window_size=window)],
        },
        date_features=calendar_features(plan.freq),
        target_transforms=[LocalStandardScaler()],
    )
    result = engine.cross_validation(
        df=frame, n_windows=plan.windows, h=plan.horizon, step_size=plan.horizon, level=[LEVEL],
        prediction_intervals=PredictionIntervals(n_windows=CONFORMAL_WINDOWS, h=plan.horizon),
    )  # fmt: skip
    return _standard(result, "lightgbm")


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


def _standard(result: Any, alias: str) -> Any:
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
