"""The hybrid: candidates from every source model, re-ranked by a LightGBM lambdarank model.

Features per candidate: each source's score and rank, how many sources proposed it, item popularity,
trend and age, the query's activity, and how often and how recently the candidate appears in the query's
own context. The ranker learns on a validation period carved from the END of the training data (sources
fitted on what precedes it), never on the test period; then the sources are refitted on all training data.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
from numpy.typing import NDArray

from shopsight.ml.recommend.base import NotFitted, Ranked, Recommender, recency_weights
from shopsight.ml.recommend.encoding import Encoded, encode
from shopsight.ml.recommend.interactions import DAY_SECONDS, Floats, Ids, Interactions, ItemCatalog
from shopsight.ml.recommend.queries import Query, Task, build_queries, sample
from shopsight.ml.recommend.split import split_by_share

SourceFactory = Callable[[], Recommender]
Mode = Literal["user", "session", "cart", "similar"]
Features = NDArray[np.float64]


@dataclass(frozen=True)
class Ask:
    """One request to the hybrid, in the sources' terms."""

    mode: Mode
    user: str | None = None
    items: tuple[str, ...] = ()
    segment: str | None = None


def ask_source(source: Recommender, ask: Ask, k: int, exclude: Collection[str]) -> Ranked:
    """The source's answer to ``ask``."""
    if ask.mode == "user":
        return source.recommend_for_user(str(ask.user), k=k, exclude=exclude, segment=ask.segment)
    if ask.mode == "similar":
        return source.similar_items(ask.items[0], k=k, exclude=exclude)
    if ask.mode == "cart":
        return source.for_cart(ask.items, k=k, exclude=exclude)
    return source.for_session(ask.items, k=k, exclude=exclude)


@dataclass(frozen=True)
class ItemStats:
    """Per-item popularity, trend and age, plus user histories, from the training data."""

    data: Encoded
    popularity: Floats
    trend: Floats
    age_days: Floats

    @classmethod
    def build(cls, data: Encoded) -> ItemStats:
        """Statistics of ``data`` as of its last interaction."""
        first_seen = np.full(len(data.items), np.inf)
        np.minimum.at(first_seen, data.item_index, data.times)
        trend = np.bincount(
            data.item_index,
            weights=data.weights * recency_weights(data.times, 14.0),
            minlength=len(data.items),
        )
        age = np.where(np.isfinite(first_seen), (data.last_time - first_seen) / DAY_SECONDS, np.nan)
        return cls(data, np.log1p(data.item_weight), np.log1p(trend), age)

    def context(self, ask: Ask) -> tuple[Ids, Floats]:
        """Items of the query's own context and their ages (days for a user, steps for a session)."""
        if ask.mode != "user":
            return np.asarray(ask.items, dtype=np.str_), np.arange(
                len(ask.items), 0, -1, dtype=np.float64
            ) - 1
        user = self.data.users.find(str(ask.user))
        if user < 0:
            return np.array([], dtype=np.str_), np.array([])
        items, times = self.data.history(user)
        return self.data.items.ids[items], (self.data.last_time - times) / DAY_SECONDS


def _context_features(candidates: Ids, context: Ids, ages: Floats) -> Features:
    """Per candidate: times it occurs in the context and its youngest age there (NaN when absent)."""
    count = np.zeros(len(candidates))
    youngest = np.full(len(candidates), np.nan)
    if len(context):
        where = np.searchsorted(candidates, context).clip(0, len(candidates) - 1)
        inside = candidates[where] == context
        np.add.at(count, where[inside], 1.0)
        np.fmin.at(youngest, where[inside], ages[inside])
    return np.column_stack([count, youngest, np.full(len(candidates), float(len(context)))])


def feature_matrix(
    answers: Sequence[Ranked], stats: ItemStats, context: tuple[Ids, Floats]
) -> tuple[Ids, Features]:
    """Candidate ids (sorted) and one feature row per candidate."""
    candidates = np.unique(np.concatenate([a.items for a in answers])) if answers else np.array([], np.str_)
    columns = []
    for answer in answers:
        score, rank = np.full(len(candidates), np.nan), np.full(len(candidates), np.nan)
        where = np.searchsorted(candidates, answer.items)
        score[where], rank[where] = answer.scores, np.arange(1, len(answer) + 1)
        columns += [score, rank]
    proposed = np.sum([~np.isnan(c) for c in columns[::2]], axis=0)
    index = stats.data.items.find_many(candidates)
    item_columns = [
        np.where(index >= 0, column[index], np.nan)
        for column in (stats.popularity, stats.trend, stats.age_days)
    ]
    own = _context_features(candidates, *context)
    return candidates, np.column_stack([*columns, proposed, *item_columns, own])


def ranker_training_set(
    sources: Sequence[Recommender], stats: ItemStats, queries: Sequence[Query], task: Task, depth: int
) -> tuple[Features, NDArray[np.int64], list[int]]:
    """Features, 0/1 labels and group sizes of the validation queries that have a right candidate."""
    rows, labels, groups = [], [], []
    for query in queries:
        ask = ask_for(query, task)
        answers = [ask_source(s, ask, depth, ()) for s in sources]
        candidates, features = feature_matrix(answers, stats, stats.context(ask))
        label = np.isin(candidates, list(query.truth)).astype(np.int64)
        if label.any():
            rows.append(features)
            labels.append(label)
            groups.append(len(candidates))
    if not rows:
        return np.zeros((0, 0)), np.zeros(0, dtype=np.int64), []
    return np.vstack(rows), np.concatenate(labels), groups


def ask_for(query: Query, task: Task) -> Ask:
    """The request an evaluation query makes."""
    if task == "user":
        return Ask("user", user=query.user, segment=query.segment)
    return Ask("session", items=query.context)


def fit_sources(
    factories: Sequence[SourceFactory], train: Interactions, catalog: ItemCatalog | None
) -> list[Recommender]:
    """A fresh instance of every source, fitted on ``train``."""
    return [factory().fit(train, catalog) for factory in factories]


class HybridRecommender:
    """Every source's candidates, re-ranked by a learned LightGBM lambdarank model."""

    name = "hybrid"

    def __init__(
        self,
        sources: Sequence[SourceFactory],
        *,
        task: Task = "user",
        depth: int = 50,
        validation_share: float = 0.2,
        training_queries: int = 2000,
        seed: int = 42,
    ) -> None:
        self.factories, self.task, self.depth = list(sources), task, depth
        self.validation_share, self.training_queries, self.seed = validation_share, training_queries, seed
        self._sources: list[Recommender] = []
        self._stats: ItemStats | None = None
        self._ranker: Any = None
        self.validation_cutoff: float | None = None

    def fit(self, train: Interactions, catalog: ItemCatalog | None = None) -> Self:
        """Learn the ranker on the end of ``train``, then refit the sources on all of it."""
        validation = split_by_share(train, self.validation_share)
        self.validation_cutoff = float(validation.test.times.min()) if len(validation.test) else None
        sources = fit_sources(self.factories, validation.train, catalog)
        stats = ItemStats.build(encode(validation.train, catalog))
        queries = sample(
            build_queries(self.task, validation.train, validation.test), self.training_queries, self.seed
        )
        features, labels, groups = ranker_training_set(sources, stats, queries.queries, self.task, self.depth)
        self._ranker = self._train_ranker(features, labels, groups) if groups else None
        self._sources = fit_sources(self.factories, train, catalog)
        self._stats = ItemStats.build(encode(train, catalog))
        return self

    def _train_ranker(self, features: Features, labels: NDArray[np.int64], groups: list[int]) -> Any:
        from lightgbm import LGBMRanker

        ranker = LGBMRanker(
            objective="lambdarank", n_estimators=300, learning_rate=0.05, num_leaves=31, min_child_samples=20,
            random_state=self.seed, deterministic=True, force_row_wise=True, n_jobs=2, verbose=-1,
        )  # fmt: skip
        return ranker.fit(features, labels, group=groups)

    def _rank(self, ask: Ask, k: int, exclude: Collection[str]) -> Ranked:
        if self._stats is None:
            raise NotFitted("hybrid is not fitted: call fit() first")
        answers = [ask_source(s, ask, self.depth, exclude) for s in self._sources]
        candidates, features = feature_matrix(answers, self._stats, self._stats.context(ask))
        if self._ranker is not None and len(candidates):
            scores = np.asarray(self._ranker.predict(features), dtype=np.float64)
        else:  # no validation query had a right candidate: reciprocal-rank fusion of the sources
            scores = np.nansum(1.0 / (60.0 + features[:, 1 : 2 * len(answers) : 2]), axis=1)
        best = np.argsort(-scores, kind="stable")[:k]
        return Ranked(items=candidates[best], scores=scores[best])

    def recommend_for_user(
        self, user: str, *, k: int = 10, exclude: Collection[str] = (), segment: str | None = None
    ) -> Ranked:
        """Top ``k`` items for ``user`` (cold users get the sources' cold-start candidates)."""
        return self._rank(Ask("user", user=user, segment=segment), k, exclude)

    def similar_items(self, item: str, *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        """Items like ``item``, never ``item`` itself."""
        return self._rank(Ask("similar", items=(item,)), k, [*exclude, item])

    def for_session(
        self, recent_items: Sequence[str], *, k: int = 10, exclude: Collection[str] = ()
    ) -> Ranked:
        """Next items of a live session, ``recent_items`` oldest first."""
        return self._rank(Ask("session", items=tuple(recent_items)), k, exclude)

    def for_cart(self, items: Sequence[str], *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        """Complements of the cart, never its items."""
        return self._rank(Ask("cart", items=tuple(items)), k, [*exclude, *items])
