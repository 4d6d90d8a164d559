"""ALS trained on Spark (``pyspark.ml`` ALS, implicit preferences) behind the same recommender interface.

Same encoded interactions and confidence matrix as :class:`ALSRecommender` (``implicit``), same scoring;
only the training runs elsewhere: a local-mode session by default, a cluster when ``master`` names one.
Spark's ALS differs from ``implicit``'s in two documented ways, kept here rather than papered over:
confidence is ``1 + alpha x r`` (``implicit``: ``alpha x r``) and the regularization of a user or an
item is multiplied by its number of ratings (ALS-WR). The fold-in of a new context follows Spark's.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from shopsight.ml.recommend.base import Indices
from shopsight.ml.recommend.encoding import Encoded, Matrix
from shopsight.ml.recommend.interactions import Floats, ItemCatalog
from shopsight.ml.recommend.models.factorization import ALSRecommender, Factors, confidence


class ALSTrainer(Protocol):
    """Where the factors are learned (the Spark engine's ``SparkALSTrainer``, or any equivalent)."""

    def train(
        self, ratings: Matrix, *, factors: int, iterations: int, regularization: float, alpha: float,
        seed: int,
    ) -> tuple[Factors, Factors]:  # fmt: skip
        """User and item factors of implicit-feedback ALS on the users x items ``ratings``."""
        ...


def local_spark_trainer(master: str = "local[2]") -> ALSTrainer:
    """The Spark engine's trainer on ``master`` (imported here, lazily: pyspark is an optional extra)."""
    from shopsight.engines.spark.als import SparkALSTrainer
    from shopsight.engines.spark.session import spark_session

    return SparkALSTrainer(lambda: spark_session(master))


class SparkALSRecommender(ALSRecommender):
    """Implicit-feedback ALS whose training runs on Spark; answers like :class:`ALSRecommender`."""

    name = "als-spark"

    def __init__(
        self, factors: int = 64, iterations: int = 15, regularization: float = 0.1, alpha: float = 10.0,
        seed: int = 42, trainer: ALSTrainer | None = None,
    ) -> None:  # fmt: skip
        super().__init__(factors, iterations, regularization, alpha, seed)
        self.trainer = trainer

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        trainer = self.trainer if self.trainer is not None else local_spark_trainer()
        self._users, self._items = trainer.train(
            confidence(data), factors=self.factors, iterations=self.iterations,
            regularization=self.regularization, alpha=self.alpha, seed=self.seed,
        )  # fmt: skip

    def _fold_in(self, items: Indices, weights: Floats) -> Factors:
        """The user vector Spark's user step gives a new context: confidence 1 + alpha x r, reg x count."""
        unique, where = np.unique(items, return_inverse=True)
        summed = np.bincount(where, weights=weights)
        context = self._items[unique]
        extra = self.alpha * np.log1p(summed)  # confidence - 1
        gram = self._items.T @ self._items + (context.T * extra) @ context
        gram += self.regularization * len(unique) * np.eye(self._items.shape[1])
        return np.asarray(np.linalg.solve(gram, context.T @ (1.0 + extra)), dtype=np.float64)
