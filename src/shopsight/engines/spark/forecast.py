"""statsforecast on Spark through fugue: the same models, one Spark task per group of series.

statsforecast sees a Spark DataFrame and hands the work to its fugue backend, which partitions by series
and runs ``StatsForecast`` (one process per task) on each partition; the result comes back as pandas in
the same layout as a local run (forecast columns as float32, fugue's output schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd  # type: ignore[import-untyped]


@dataclass(frozen=True)
class SparkStats:
    """A :class:`shopsight.ml.forecast.models.StatsBackend` on a SparkSession (see ``session.py``)."""

    session: Any  # pyspark.sql.SparkSession
    name: str = "spark"

    def cross_validation(
        self, *, models: list[Any], freq: str | int, frame: Any, horizon: int, windows: int, level: int
    ) -> Any:
        """Rolling-origin forecasts computed on Spark, collected as pandas."""
        from statsforecast import StatsForecast

        engine = StatsForecast(models=models, freq=freq)
        result = engine.cross_validation(
            h=horizon, df=self._spark_frame(frame), n_windows=windows, step_size=horizon, level=[level]
        )
        return _collected(result, ["unique_id", "cutoff", "ds"])

    def forecast(self, *, models: list[Any], freq: str | int, frame: Any, horizon: int, level: int) -> Any:
        """Forecasts after the end of every series, computed on Spark, collected as pandas."""
        from statsforecast import StatsForecast

        result = StatsForecast(models=models, freq=freq).forecast(
            df=self._spark_frame(frame), h=horizon, level=[level]
        )
        return _collected(result, ["unique_id", "ds"])

    def _spark_frame(self, frame: Any) -> Any:
        return series_frame(self.session, frame)


def series_frame(session: Any, frame: Any) -> Any:
    """``unique_id, ds, y`` as a Spark DataFrame: ids as strings and units as floats, as in a local run
    (fugue and mlforecast partition by series id themselves)."""
    typed = frame[["unique_id", "ds", "y"]].astype({"unique_id": str, "y": float})
    return session.createDataFrame(typed)


def _collected(result: Any, order: list[str]) -> Any:
    frame: pd.DataFrame = result.toPandas()
    return frame.sort_values(order, ignore_index=True)
