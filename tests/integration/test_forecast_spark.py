"""statsforecast on Spark (local mode, through fugue) gives the local forecasts of the same models."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.engines.spark.forecast import SparkStats
from shopsight.engines.spark.lightgbm import SparkLightGBMForecast, train_params
from shopsight.engines.spark.mlforecast import SparkGlobal, with_conformal_intervals
from shopsight.engines.spark.session import spark_session
from shopsight.ml.forecast.holidays import HolidayCalendar
from shopsight.ml.forecast.models import (
    LIGHTGBM_PARAMS,
    BacktestPlan,
    LocalGlobal,
    LocalStats,
    backtest,
    forecast,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PLAN = BacktestPlan(freq="D", season_lengths=(7,), horizon=7, windows=2)
MODELS = ["seasonal_naive", "auto_ets", "croston", "tsb"]
BACKTESTED = ["auto_ets", "croston"]  # its own intervals; conformal ones (each Spark job costs seconds)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkStats]:
    """One local-mode session for the module (it takes about 10 s to start)."""
    session = spark_session("local[2]", Path(tmp_path_factory.mktemp("spark")))
    yield SparkStats(session)
    session.stop()


def _demand(skus: int = 6, days: int = 84) -> Any:
    """Weekly pattern, a trend on some SKUs and intermittent zeros on others."""
    rng = np.random.default_rng(7)
    week = np.array([5.0, 6.0, 7.0, 8.0, 12.0, 15.0, 3.0])
    frames = []
    for sku in range(skus):
        level = np.tile(week, days // 7) * (1 + sku / 2) + np.arange(days) * (sku % 2) / 10
        units = rng.poisson(level).astype(float) * (rng.random(days) > 0.3 * (sku % 3 == 2))
        days_index = pd.date_range("2024-01-01", periods=days, freq="D")
        frames.append(pd.DataFrame({"unique_id": f"sku{sku}", "ds": days_index, "y": units}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("model", BACKTESTED)
def test_spark_backtest_equals_the_local_one(spark: SparkStats, model: str) -> None:
    demand = _demand()
    local = backtest(model, demand, PLAN, stats=LocalStats())
    distributed = backtest(model, demand, PLAN, stats=spark)
    assert len(distributed) == len(local) == 6 * 2 * 7
    keys = ["unique_id", "cutoff", "ds"]
    joined = local.merge(distributed, on=keys, suffixes=("_local", "_spark"), validate="one_to_one")
    assert len(joined) == len(local)
    for column in ("y", "forecast", "lo", "hi"):
        # fugue's output schema is float32: equal to about 7 significant digits
        np.testing.assert_allclose(joined[f"{column}_spark"], joined[f"{column}_local"], rtol=1e-5, atol=1e-4)


def test_spark_forecast_of_several_models_equals_the_local_one(spark: SparkStats) -> None:
    demand = _demand()
    local = forecast(MODELS, demand, PLAN, stats=LocalStats())
    distributed = forecast(MODELS, demand, PLAN, stats=spark)
    local = local.sort_values(["unique_id", "ds"], ignore_index=True)
    assert list(distributed.columns) == list(local.columns)
    assert len(local) == 6 * 7
    pd.testing.assert_frame_equal(distributed[["unique_id", "ds"]], local[["unique_id", "ds"]])
    np.testing.assert_allclose(
        distributed[local.columns[2:]].to_numpy(dtype=float),
        local[local.columns[2:]].to_numpy(dtype=float),
        rtol=1e-5,
        atol=1e-4,
    )


def test_cli_engine_spark_scores_like_the_local_engine(spark: SparkStats, tmp_path: Path) -> None:
    csv = tmp_path / "sales.csv"
    _demand(skus=4, days=70).rename(columns={"unique_id": "sku", "ds": "day", "y": "units"}).to_csv(
        csv, index=False
    )
    args = ["forecast", "evaluate", "--series", str(csv), "--id-col", "sku", "--time-col", "day",
            "--target-col", "units", "--freq", "D", "--horizon", "7", "--models", "seasonal_naive,croston",
            "--format", "json"]  # fmt: skip
    runs = {}
    for engine in ("local", "spark"):  # the CLI's session is the module's one (getOrCreate)
        result = CliRunner().invoke(app, [*args, "--engine", engine])
        assert result.exit_code == 0, result.output
        runs[engine] = {row["model"]: row for row in orjson.loads(result.stdout)}
    assert runs["spark"].keys() == runs["local"].keys() == {"seasonal_naive", "croston", "auto"}
    for model, row in runs["local"].items():
        for key in ("mase", "smape", "rmsse", "wape", "coverage80"):
            assert runs["spark"][model][key] == pytest.approx(row[key], rel=1e-4, abs=1e-4), (model, key)


def _local_and_spark_backtests(model: str, spark: SparkStats, plan: BacktestPlan = PLAN) -> Any:
    """Global ``model``'s backtest here and on Spark, joined point by point (``_local`` / ``_spark``);
    checks both cover the same points and the Spark intervals hold their forecasts."""
    demand = _demand()
    local = backtest(model, demand, plan, ml=LocalGlobal())
    distributed = backtest(model, demand, plan, ml=SparkGlobal(spark.session))
    assert len(distributed) == len(local) == 6 * 2 * 7
    keys = ["unique_id", "cutoff", "ds"]
    joined = local.merge(distributed, on=keys, suffixes=("_local", "_spark"), validate="one_to_one")
    assert len(joined) == len(local) and (joined["ds"] > joined["cutoff"]).all()
    np.testing.assert_allclose(joined["y_spark"], joined["y_local"])
    assert (joined["lo_spark"] <= joined["forecast_spark"] + 1e-9).all()
    assert (joined["forecast_spark"] <= joined["hi_spark"] + 1e-9).all()
    return joined


def test_mlforecast_on_spark_trains_the_local_global_model(spark: SparkStats) -> None:
    """XGBoost through mlforecast's distributed backend (features built per partition, xgboost's PySpark
    estimator) forecasts exactly what the same model forecasts in this process; its conformal intervals
    come from the two backtest windows before each cutoff."""
    joined = _local_and_spark_backtests("xgboost", spark)
    np.testing.assert_allclose(joined["forecast_spark"], joined["forecast_local"], rtol=1e-6, atol=1e-6)
    assert (joined["hi_spark"] - joined["lo_spark"]).mean() > 0
    covered = ((joined["y_spark"] >= joined["lo_spark"]) & (joined["y_spark"] <= joined["hi_spark"])).mean()
    assert 0.5 <= covered <= 1.0  # 84 points of Poisson demand around an 80% interval


def test_the_spark_conformal_interval_is_mlforecasts_conformal_distribution() -> None:
    """Per series and step: the 10% / 90% quantiles of forecast -/+ the absolute errors of the two
    windows before, as mlforecast's ``conformal_distribution`` computes them."""
    rows = []
    for window, (actual, predicted) in enumerate([(10.0, 8.0), (10.0, 13.0), (7.0, 6.0)]):
        cutoff = pd.Timestamp("2024-01-01") + pd.Timedelta(days=window)
        rows.append({"unique_id": "a", "ds": cutoff + pd.Timedelta(days=1), "cutoff": cutoff,
                     "y": actual, "xgboost": predicted})  # fmt: skip
    plan = BacktestPlan(freq="D", season_lengths=(7,), horizon=1, windows=1)
    (only,) = with_conformal_intervals(pd.DataFrame(rows), "xgboost", plan).to_dict("records")
    spread = np.array([6.0 - 2.0, 6.0 - 3.0, 6.0 + 2.0, 6.0 + 3.0])  # errors 2 and 3 before the cutoff
    assert only["forecast"] == 6.0 and only["y"] == 7.0
    assert only["lo"] == pytest.approx(np.quantile(spread, 0.1))
    assert only["hi"] == pytest.approx(np.quantile(spread, 0.9))


def test_lightgbm_trains_data_parallel_across_the_spark_tasks(spark: SparkStats) -> None:
    """Two barrier tasks train one LightGBM model together over LightGBM's network, each on about half the
    rows: its trees count every row (bagged 80%), and it fits a known function as well as the same
    parameters trained on all rows in one process."""
    import lightgbm as lgb
    from pyspark.ml.linalg import Vectors

    rng = np.random.default_rng(3)
    features = rng.uniform(-1, 1, (4000, 3))
    labels = 3 * features[:, 0] - 2 * features[:, 1] ** 2 + rng.normal(0, 0.1, 4000)
    rows = [(float(y), Vectors.dense(x)) for x, y in zip(features, labels, strict=True)]
    frame = spark.session.createDataFrame(rows, ["y", "features"])
    model = SparkLightGBMForecast(partitions=2)._pre_fit("y")
    together = model.extract_local_model(model.fit(frame))
    params, rounds = train_params(LIGHTGBM_PARAMS)
    serial = lgb.train(params, lgb.Dataset(features, labels), num_boost_round=rounds)
    held_out = rng.uniform(-1, 1, (1000, 3))
    truth = 3 * held_out[:, 0] - 2 * held_out[:, 1] ** 2
    error_together = np.abs(together.predict(held_out) - truth).mean()
    error_serial = np.abs(serial.predict(held_out) - truth).mean()
    assert error_together < 0.1 and error_together == pytest.approx(error_serial, rel=0.25)
    assert together.num_trees() == rounds
    root = together.dump_model()["tree_info"][0]["tree_structure"]
    assert root["internal_count"] > 0.7 * len(rows)  # both tasks' rows, not one task's half


def test_lightgbm_on_spark_backtests_like_the_local_model(spark: SparkStats) -> None:
    """``lightgbm`` through mlforecast's distributed backend on Spark: the same windows and features as a
    local run; data-parallel training finds its bins on part of the rows, so forecasts are close to the
    local ones, not equal."""
    joined = _local_and_spark_backtests("lightgbm", spark)
    local_error = (joined["y_local"] - joined["forecast_local"]).abs().mean()
    spark_error = (joined["y_spark"] - joined["forecast_spark"]).abs().mean()
    assert spark_error == pytest.approx(local_error, rel=0.15)


def test_holiday_features_travel_to_the_spark_workers(spark: SparkStats) -> None:
    """``lightgbm_holidays`` on Spark: the calendar's features are computed on the workers, and the model
    forecasts about as well as the same model here."""
    plan = replace(PLAN, holidays=HolidayCalendar("GB", "ENG"))
    joined = _local_and_spark_backtests("lightgbm_holidays", spark, plan)
    local_error = (joined["y_local"] - joined["forecast_local"]).abs().mean()
    spark_error = (joined["y_spark"] - joined["forecast_spark"]).abs().mean()
    assert spark_error == pytest.approx(local_error, rel=0.15)
