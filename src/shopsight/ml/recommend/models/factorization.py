"""Implicit-feedback matrix factorization (ALS and BPR) through the ``implicit`` library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from shopsight.ml.recommend.base import Indices, ScoringModel
from shopsight.ml.recommend.encoding import Encoded
from shopsight.ml.recommend.interactions import Floats, ItemCatalog

Factors = NDArray[np.float64]


def confidence(data: Encoded) -> sp.csr_matrix:
    """User x item confidence: log(1 + summed weight), so repeats count with diminishing returns."""
    matrix = data.matrix.astype(np.float32)
    matrix.data = np.log1p(matrix.data)
    return sp.csr_matrix(matrix)


def fit_quietly(build: Callable[[], Any], user_items: sp.csr_matrix) -> Any:
    """Build and fit an ``implicit`` model with BLAS on one thread (implicit parallelises itself).

    implicit checks the BLAS thread pool when a model is created, so the limit covers both steps.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        model = build()
        model.fit(user_items, show_progress=False)
    return model


class FactorizationModel(ScoringModel):
    """Scores are dot products of user and item factors; context items are folded in."""

    def __init__(self, factors: int = 64, iterations: int = 15, seed: int = 42) -> None:
        super().__init__()
        self.factors, self.iterations, self.seed = factors, iterations, seed
        self._users: Factors = np.zeros((0, 0))
        self._items: Factors = np.zeros((0, 0))

    def _store(self, model: Any) -> None:
        self._users = np.asarray(model.user_factors, dtype=np.float64)
        self._items = np.asarray(model.item_factors, dtype=np.float64)

    def _user_scores(self, user: int) -> Floats:
        return np.asarray(self._items @ self._users[user], dtype=np.float64)

    def _context_scores(self, items: Indices, weights: Floats) -> Floats:
        return np.asarray(self._items @ (weights @ self._items[items] / weights.sum()), dtype=np.float64)

    def _similar_scores(self, item: int) -> Floats:
        norms = np.linalg.norm(self._items, axis=1)
        norms[norms == 0] = 1.0
        return np.asarray((self._items @ self._items[item]) / (norms * norms[item]), dtype=np.float64)


class ALSRecommender(FactorizationModel):
    """Alternating least squares on confidence-weighted implicit feedback (Hu, Koren & Volinsky)."""

    name = "als"

    def __init__(
        self, factors: int = 64, iterations: int = 15, regularization: float = 0.1, alpha: float = 10.0,
        seed: int = 42,
    ) -> None:  # fmt: skip
        super().__init__(factors, iterations, seed)
        self.regularization, self.alpha = regularization, alpha

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        from implicit.cpu.als import AlternatingLeastSquares  # type: ignore[import-untyped]

        model = fit_quietly(
            lambda: AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=2,
            ),
            confidence(data),
        )
        self._store(model)

    def _context_scores(self, items: Indices, weights: Floats) -> Floats:
        return self._items @ self._fold_in(items, weights)

    def _fold_in(self, items: Indices, weights: Floats) -> Factors:
        """The least-squares user vector of a new context (the ALS user step for one user)."""
        unique, where = np.unique(items, return_inverse=True)
        summed = np.bincount(where, weights=weights)
        context = self._items[unique]
        # implicit's confidence is alpha x the matrix value; its user step solves
        # (YtY + Yc^T (C - 1) Yc + reg I) x = Yc^T C.
        weight = self.alpha * np.log1p(summed)
        gram = self._items.T @ self._items + (context.T * (weight - 1.0)) @ context
        gram += self.regularization * np.eye(self._items.shape[1])
        return np.asarray(np.linalg.solve(gram, context.T @ weight), dtype=np.float64)


class BPRRecommender(FactorizationModel):
    """Bayesian personalized ranking: pairwise SGD on (user, seen item, unseen item) triples."""

    name = "bpr"

    def __init__(
        self, factors: int = 64, iterations: int = 100, learning_rate: float = 0.05,
        regularization: float = 0.01, seed: int = 42,
    ) -> None:  # fmt: skip
        super().__init__(factors, iterations, seed)
        self.learning_rate, self.regularization = learning_rate, regularization

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking  # type: ignore[import-untyped]

        model = fit_quietly(
            lambda: BayesianPersonalizedRanking(
                factors=self.factors,
                learning_rate=self.learning_rate,
                regularization=self.regularization,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=2,
            ),
            confidence(data),
        )
        self._store(model)
