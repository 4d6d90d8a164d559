"""Choosing models and the ALS engine: ``--model`` on ``recs evaluate``, ``--engine`` on evaluate and train.

Spark itself is exercised in tests/integration/test_recs_spark_als.py; these checks never start it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.ml.recommend.datasets import EvaluationData
from shopsight.ml.recommend.interactions import Interactions
from shopsight.ml.recommend.models.factorization import ALSRecommender, BPRRecommender
from shopsight.ml.recommend.models.spark_als import SparkALSRecommender
from shopsight.ml.recommend.split import split_by_share
from shopsight.ml.recommend.training import ALSEngine, TrainingError, check_engine, model_factory

runner = CliRunner()


def _csv(shop: Interactions, path: Path) -> list[str]:
    days = np.datetime_as_string((shop.times * 1e6).astype("datetime64[us]"), unit="s")
    rows = [f"{u},{i},{t}" for u, i, t in zip(shop.users, shop.items, days, strict=True)]
    path.write_text("customer,product,at\n" + "\n".join(rows) + "\n")
    columns = ["--user-col", "customer", "--item-col", "product", "--time-col", "at"]
    return ["recs", "evaluate", "--interactions", str(path), *columns, "--max-queries", "40"]


def test_evaluate_only_the_chosen_models(shop: Interactions, tmp_path: Path) -> None:
    command = _csv(shop, tmp_path / "shop.csv")
    result = runner.invoke(app, [*command, "--model", "als", "--model", "item_knn", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [row["model"] for row in orjson.loads(result.stdout)] == ["als", "item-knn"]


def test_spark_engine_trains_als_only(shop: Interactions, tmp_path: Path) -> None:
    command = _csv(shop, tmp_path / "shop.csv")
    everything = runner.invoke(app, [*command, "--engine", "spark"])
    assert everything.exit_code == 2 and "als only, not every model" in everything.output
    other = runner.invoke(app, [*command, "--engine", "spark", "--model", "bpr", "--model", "fbt"])
    assert other.exit_code == 2 and "als only, not bpr, fbt" in other.output
    trained = runner.invoke(app, ["--home", str(tmp_path / "h"), "recs", "train", "--model", "bpr",
                                  "--engine", "spark"])  # fmt: skip
    assert trained.exit_code == 2 and "als only" in trained.output
    unknown = runner.invoke(app, [*command, "--engine", "dask"])
    assert unknown.exit_code == 2


def test_the_engine_picks_the_als_class(shop: Interactions) -> None:
    data = EvaluationData("shop", split_by_share(shop, 0.2), "user")
    assert type(model_factory("als", data)()) is ALSRecommender
    assert type(model_factory("als", data, engine=ALSEngine.spark)()) is SparkALSRecommender
    assert type(model_factory("bpr", data, engine=ALSEngine.spark)()) is BPRRecommender
    check_engine(["popularity", "als"], ALSEngine.spark)
    with pytest.raises(TrainingError, match="als only"):
        check_engine(["hybrid"], ALSEngine.spark)
