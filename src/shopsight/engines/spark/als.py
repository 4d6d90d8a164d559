"""pyspark.ml ALS with implicit preferences: the scale-out trainer of the ALS recommender.

The rating matrix goes to Spark as (user, item, rating) rows with the recommender's integer indices as
ids, and the learned factors come back as numpy arrays in that index order (rows of users or items that
have no rating stay zero).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import scipy.sparse as sp  # type: ignore[import-untyped]
from numpy.typing import NDArray

from shopsight.engines.spark.session import spark_session

Factors = NDArray[np.float64]
# Iterations between checkpoints of the factors (they cut the lineage; see _ensure_checkpoints).
CHECKPOINT_EVERY = 5


@dataclass(frozen=True)
class SparkALSTrainer:
    """Trains ``pyspark.ml.recommendation.ALS`` on the session ``session_factory`` returns."""

    session_factory: Callable[[], Any] = field(default=spark_session)

    def train(
        self, ratings: sp.csr_matrix, *, factors: int, iterations: int, regularization: float, alpha: float,
        seed: int,
    ) -> tuple[Factors, Factors]:  # fmt: skip
        """User and item factors of implicit-feedback ALS on the users x items ``ratings``."""
        from pyspark.ml.recommendation import ALS

        session = self.session_factory()
        _ensure_checkpoints(session.sparkContext)
        blocks = max(1, int(session.sparkContext.defaultParallelism))
        als = ALS(
            rank=factors, maxIter=iterations, regParam=regularization, alpha=alpha, implicitPrefs=True,
            seed=seed, userCol="user", itemCol="item", ratingCol="rating", numUserBlocks=blocks,
            numItemBlocks=blocks, checkpointInterval=CHECKPOINT_EVERY,
        )  # fmt: skip
        model = als.fit(session.createDataFrame(_rating_rows(ratings)))
        return (
            _dense(model.userFactors, ratings.shape[0], factors),
            _dense(model.itemFactors, ratings.shape[1], factors),
        )


def _ensure_checkpoints(context: Any) -> None:
    """A checkpoint folder, unless the session has one (a cluster sets a shared one).

    Without checkpoints ALS's lineage grows with every iteration and the JVM can overflow its stack
    deserialising the last tasks (seen here at 15 iterations in local mode); Spark deletes old checkpoints.
    """
    if context.getCheckpointDir() is None:
        context.setCheckpointDir(tempfile.mkdtemp(prefix="shopsight-als-checkpoints-"))


def _rating_rows(ratings: sp.csr_matrix) -> pd.DataFrame:
    """One row per stored entry: user and item indices (int32, as Spark ALS wants) and the rating."""
    entries = sp.coo_matrix(ratings)
    return pd.DataFrame(
        {
            "user": entries.row.astype(np.int32),
            "item": entries.col.astype(np.int32),
            "rating": entries.data.astype(np.float32),
        }
    )


def _dense(frame: Any, rows: int, factors: int) -> Factors:
    """A Spark factors frame (id, features) as a matrix in id order; ids Spark never saw stay zero."""
    collected = frame.toPandas()
    out = np.zeros((rows, factors), dtype=np.float64)
    if len(collected):
        out[collected["id"].to_numpy()] = np.stack(collected["features"].to_numpy()).astype(np.float64)
    return out
