"""mlforecast on Spark: the global XGBoost and LightGBM models through mlforecast's distributed backend.

``DistributedMLForecast`` builds the features (the same lags, rolling means, calendar features and
per-series scaling as a local run) inside each partition of series on Spark, and one model is trained on
all of them: XGBoost by xgboost's own PySpark estimator, LightGBM by ``lightgbm.py``'s barrier-stage
data-parallel training (mlforecast's own Spark LightGBM needs SynapseML's JVM packages from Maven);
forecasts are made per partition. Its cross-validation has no prediction intervals, so they are added
here with mlforecast's conformal method on the two windows before each cutoff, the windows a local
``PredictionIntervals(n_windows=2)`` run calibrates on: the backtest runs two more windows and returns
the last ones. ``lightgbm_price`` (dynamic price features) runs in this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from shopsight.engines.spark.forecast import series_frame
from shopsight.engines.spark.lightgbm import SparkLightGBMForecast
from shopsight.ml.forecast.models import (
    CONFORMAL_WINDOWS,
    GLOBAL_MODELS,
    LEVEL,
    PRICE_MODELS,
    XGBOOST_PARAMS,
    BacktestPlan,
    LocalGlobal,
    global_features,
    standard_frame,
)

# Global models trained on Spark; the price model needs its dynamic price features, which stay local.
SPARK_MODELS = tuple(name for name in GLOBAL_MODELS if name not in PRICE_MODELS)


@dataclass(frozen=True)
class SparkGlobal:
    """A :class:`shopsight.ml.forecast.models.GlobalBackend` on a SparkSession (see ``session.py``)."""

    session: Any  # pyspark.sql.SparkSession
    partitions: int = 2
    name: str = "spark"

    def backtest(self, name: str, frame: Any, plan: BacktestPlan) -> Any:
        """XGBoost or LightGBM (with or without holidays) on Spark over the plan's windows with conformal
        80% intervals; ``lightgbm_price`` in this process."""
        if name not in SPARK_MODELS:
            return LocalGlobal().backtest(name, frame, plan)
        from mlforecast.distributed import DistributedMLForecast

        engine = DistributedMLForecast(
            models={name: self._model(name)}, num_partitions=self.partitions,
            **global_features(plan, name),
        )  # fmt: skip
        result = engine.cross_validation(
            series_frame(self.session, frame), n_windows=plan.windows + CONFORMAL_WINDOWS, h=plan.horizon,
            step_size=plan.horizon,
        ).toPandas()  # fmt: skip
        return with_conformal_intervals(result, name, plan)

    def _model(self, name: str) -> Any:
        if name == "xgboost":
            from mlforecast.distributed.models.spark.xgb import SparkXGBForecast

            return SparkXGBForecast(**XGBOOST_PARAMS, num_workers=1)
        return SparkLightGBMForecast(partitions=self.partitions)


def with_conformal_intervals(result: Any, alias: str, plan: BacktestPlan) -> Any:
    """The last ``plan.windows`` windows of a cross-validation with ``CONFORMAL_WINDOWS`` more before them,
    each with mlforecast's conformal-distribution interval from the absolute errors, per series and
    horizon step, of the windows just before it."""
    frame = result.sort_values(["unique_id", "cutoff", "ds"], ignore_index=True)
    frame["window"] = frame.groupby("unique_id")["cutoff"].rank(method="dense").astype(int) - 1
    frame["step"] = frame.groupby(["unique_id", "window"]).cumcount()
    frame["score"] = (frame["y"] - frame[alias]).abs()
    scores = frame.pivot_table(index=["unique_id", "step"], columns="window", values="score")
    parts = []
    for window in range(CONFORMAL_WINDOWS, CONFORMAL_WINDOWS + plan.windows):
        current = frame[frame["window"] == window]
        earlier = scores[list(range(window - CONFORMAL_WINDOWS, window))]
        calibrated = earlier.reindex(pd.MultiIndex.from_frame(current[["unique_id", "step"]])).to_numpy()
        mean = current[alias].to_numpy()[:, None]
        spread = np.hstack([mean - calibrated, mean + calibrated])
        tail = (100 - LEVEL) / 200
        low, high = np.quantile(spread, [tail, 1 - tail], axis=1)
        parts.append(current.assign(**{f"{alias}-lo-{LEVEL}": low, f"{alias}-hi-{LEVEL}": high}))
    return standard_frame(pd.concat(parts, ignore_index=True), alias)
