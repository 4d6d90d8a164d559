"""Offline evaluation: every model and the hybrid on a temporal split, with ranking and catalog metrics.

The split is checked for leakage (latest training time before the earliest test time); users and items
unseen in training are set aside and counted (see :class:`~shopsight.ml.recommend.queries.QuerySet`).
Seeds are fixed: the same data gives the same table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from shopsight.ml.recommend.base import Recommender
from shopsight.ml.recommend.datasets import EvaluationData
from shopsight.ml.recommend.hybrid import HybridRecommender, SourceFactory, ask_for, ask_source
from shopsight.ml.recommend.interactions import Ids
from shopsight.ml.recommend.metrics import (
    catalog_coverage,
    hit_matrix,
    hit_rate_at_k,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    recall_at_k,
)
from shopsight.ml.recommend.models.content import ContentRecommender
from shopsight.ml.recommend.models.factorization import ALSRecommender, BPRRecommender
from shopsight.ml.recommend.models.neighbors import (
    BoughtTogetherRecommender,
    ItemKNNRecommender,
    SessionCovisitationRecommender,
)
from shopsight.ml.recommend.models.popularity import (
    PopularityRecommender,
    SegmentPopularityRecommender,
    TrendingRecommender,
)
from shopsight.ml.recommend.names import DEFAULT_SEED as DEFAULT_SEED
from shopsight.ml.recommend.queries import Query, QuerySet, Task, build_queries, sample
from shopsight.ml.recommend.split import assert_no_leakage

CUTOFFS = (10, 20)


class Progress(Protocol):
    """Where the evaluation reports progress (a rich ``Progress`` fits)."""

    def add_task(self, description: str, *, total: float | None = ...) -> Any:
        """Start a bar."""
        ...

    def advance(self, task_id: Any, advance: float = ...) -> None:
        """Move a bar on."""
        ...


@dataclass(frozen=True)
class ModelResult:
    """One model's metrics on one dataset (keys like ``ndcg@10``, ``coverage``) and its timings."""

    model: str
    metrics: dict[str, float]
    fit_seconds: float
    eval_seconds: float

    def to_json(self) -> dict[str, float | str]:
        """``model``, every metric, and the timings."""
        timings = {"fit_seconds": round(self.fit_seconds, 2), "eval_seconds": round(self.eval_seconds, 2)}
        return {"model": self.model, **{k: round(v, 5) for k, v in self.metrics.items()}, **timings}


@dataclass(frozen=True)
class Evaluation:
    """The results of every model on one dataset, and what the numbers leave out."""

    dataset: str
    task: Task
    queries: int
    results: list[ModelResult]
    notes: list[str] = field(default_factory=list)

    def best_single(self, metric: str = "ndcg@10") -> ModelResult:
        """The best model other than the hybrid on ``metric``."""
        return max((r for r in self.results if r.model != "hybrid"), key=lambda r: r.metrics[metric])


def source_factories(data: EvaluationData, seed: int = DEFAULT_SEED) -> list[SourceFactory]:
    """Every single model that fits ``data`` (content only when the catalog has text)."""
    factories: list[SourceFactory] = [
        PopularityRecommender,
        TrendingRecommender,
        ItemKNNRecommender,
        SessionCovisitationRecommender,
        BoughtTogetherRecommender,
        lambda: ALSRecommender(seed=seed),
        lambda: BPRRecommender(seed=seed),
    ]
    if data.split.train.segments is not None:
        factories.insert(1, SegmentPopularityRecommender)
    if data.catalog is not None and any(data.catalog.texts):
        factories.append(ContentRecommender)
    return factories


def all_models(data: EvaluationData, seed: int = DEFAULT_SEED) -> list[Callable[[], Recommender]]:
    """Every single model, then the hybrid over all of them."""
    sources = source_factories(data, seed)
    return [*sources, lambda: HybridRecommender(sources, task=data.task, seed=seed)]


def answers(
    model: Recommender, queries: Sequence[Query], task: Task, k: int, tick: Callable[[], None]
) -> list[list[str]]:
    """The model's top ``k`` ids for every query."""
    out = []
    for query in queries:
        out.append(ask_source(model, ask_for(query, task), k, ()).ids())
        tick()
    return out


def score(recommended: list[list[str]], queries: Sequence[Query], data: EvaluationData) -> dict[str, float]:
    """Every metric at every cutoff, plus catalog coverage and novelty at the largest cutoff."""
    truths = [q.truth for q in queries]
    relevant = np.array([len(t) for t in truths], dtype=np.int64)
    largest = max(CUTOFFS)
    hits = hit_matrix(recommended, truths, largest)
    metrics: dict[str, float] = {}
    for k in CUTOFFS:
        metrics |= {
            f"ndcg@{k}": ndcg_at_k(hits, relevant, k),
            f"recall@{k}": recall_at_k(hits, relevant, k),
            f"map@{k}": map_at_k(hits, relevant, k),
            f"mrr@{k}": mrr_at_k(hits, k),
            f"hit@{k}": hit_rate_at_k(hits, k),
        }
    train = data.split.train
    catalog = [data.catalog.items] if data.catalog is not None else []
    recommendable = len(np.unique(np.concatenate([train.items, *catalog])))
    metrics["coverage"] = catalog_coverage(recommended, recommendable, largest)
    metrics["novelty"] = novelty(recommended, user_share(train.users, train.items), largest)
    return metrics


def user_share(users: Ids, items: Ids) -> dict[str, float]:
    """Share of users who interacted with each item."""
    names, item_index = np.unique(items, return_inverse=True)
    _, user_index = np.unique(users, return_inverse=True)
    n_users = int(user_index.max()) + 1 if len(users) else 1
    pairs = np.unique(item_index.astype(np.int64) * n_users + user_index)
    counts = np.bincount(pairs // n_users, minlength=len(names))
    return dict(zip(names.tolist(), (counts / n_users).tolist(), strict=True))


def evaluate(
    data: EvaluationData,
    *,
    models: Iterable[Callable[[], Recommender]] | None = None,
    max_queries: int | None = 5000,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> Evaluation:
    """Fit each model on the training period and score it on the test period's queries."""
    assert_no_leakage(data.split.train, data.split.test)
    queries = sample(build_queries(data.task, data.split.train, data.split.test), max_queries, seed)
    results = [
        _evaluate_one(build, data, queries, progress)
        for build in (models if models is not None else all_models(data, seed))
    ]
    notes = [*data.notes, *queries.notes()]
    return Evaluation(data.name, data.task, len(queries.queries), results, notes)


def _evaluate_one(
    build: Callable[[], Recommender], data: EvaluationData, queries: QuerySet, progress: Progress | None
) -> ModelResult:
    model = build()
    started = time.perf_counter()
    with _stage(progress, f"fit {model.name}", 1) as tick:
        model.fit(data.split.train, data.catalog)
        tick()
    fitted = time.perf_counter()
    with _stage(progress, f"ask {model.name}", len(queries.queries)) as tick:
        recommended = answers(model, queries.queries, data.task, max(CUTOFFS), tick)
    metrics = score(recommended, queries.queries, data)
    return ModelResult(model.name, metrics, fitted - started, time.perf_counter() - fitted)


@contextmanager
def _stage(progress: Progress | None, description: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar for one step; yields the function that advances it."""
    if progress is None:
        yield lambda: None
        return
    task = progress.add_task(description, total=total)
    yield lambda: progress.advance(task, 1)
