"""No test interaction reaches training: not in the split, not in what any model (or the hybrid) saw."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import numpy as np
import pytest

from shopsight.ml.recommend.base import Ranked, Recommender
from shopsight.ml.recommend.datasets import EvaluationData, online_retail, yoochoose
from shopsight.ml.recommend.evaluate import evaluate
from shopsight.ml.recommend.hybrid import HybridRecommender
from shopsight.ml.recommend.interactions import Interactions, ItemCatalog
from shopsight.ml.recommend.models.neighbors import ItemKNNRecommender, SessionCovisitationRecommender
from shopsight.ml.recommend.models.popularity import PopularityRecommender
from shopsight.ml.recommend.queries import session_queries, user_queries
from shopsight.ml.recommend.split import LeakageError, TemporalSplit, split_at

DAY = 86_400.0


class Recording:
    """A model that records every training set it is given, then defers to ``inner``."""

    def __init__(self, inner: Recommender, fits: list[Interactions]) -> None:
        self.inner, self.fits, self.name = inner, fits, inner.name

    def fit(self, train: Interactions, catalog: ItemCatalog | None = None) -> Self:
        self.fits.append(train)
        self.inner.fit(train, catalog)
        return self

    def recommend_for_user(
        self, user: str, *, k: int = 10, exclude: Collection[str] = (), segment: str | None = None
    ) -> Ranked:
        return self.inner.recommend_for_user(user, k=k, exclude=exclude, segment=segment)

    def similar_items(self, item: str, *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        return self.inner.similar_items(item, k=k, exclude=exclude)

    def for_session(
        self, recent_items: Sequence[str], *, k: int = 10, exclude: Collection[str] = ()
    ) -> Ranked:
        return self.inner.for_session(recent_items, k=k, exclude=exclude)

    def for_cart(self, items: Sequence[str], *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        return self.inner.for_cart(items, k=k, exclude=exclude)


def test_split_puts_every_training_row_before_every_test_row(shop: Interactions) -> None:
    split = split_at(shop, 70 * DAY)
    assert split.train.times.max() < split.test.times.min()
    assert len(split.train) + len(split.test) == len(shop)


def test_an_overlapping_split_is_refused(shop: Interactions) -> None:
    with pytest.raises(LeakageError):
        TemporalSplit(train=shop.before(80 * DAY), test=shop.since(60 * DAY))


def test_no_model_and_no_hybrid_stage_sees_the_test_period(shop: Interactions, catalog: ItemCatalog) -> None:
    split = split_at(shop, 70 * DAY)
    fits: list[Interactions] = []
    sources = [
        lambda: Recording(PopularityRecommender(), fits),
        lambda: Recording(ItemKNNRecommender(), fits),
    ]
    hybrid = HybridRecommender(sources, task="user")
    data = EvaluationData("shop", split, "user", catalog)
    evaluate(data, models=[*sources, lambda: hybrid])
    test_start = split.test.times.min()
    assert len(fits) == 2 + 2 * 2  # each source alone, then the hybrid's validation and final fits
    assert all(f.times.max() < test_start for f in fits)
    assert hybrid.validation_cutoff is not None and hybrid.validation_cutoff < test_start
    validation_fits = [f for f in fits if f.times.max() < hybrid.validation_cutoff]
    assert len(validation_fits) == 2, "the ranker's sources were fitted before the validation period"


def test_queries_ask_only_for_items_the_model_could_know(shop: Interactions) -> None:
    split = split_at(shop, 70 * DAY)
    known = set(split.train.items.tolist())
    for queries in (user_queries(split.train, split.test), session_queries(split.train, split.test)):
        assert queries.queries
        assert all(q.truth <= known for q in queries.queries)


def test_session_queries_use_only_the_prefix(shop: Interactions) -> None:
    split = split_at(shop, 70 * DAY)
    SessionCovisitationRecommender().fit(split.train)
    for query in session_queries(split.train, split.test).queries[:50]:
        session = split.test.items[split.test.sessions == query.user].tolist()
        assert list(query.context) == session[: len(query.context)]


def test_shipped_splits_do_not_leak(datasets: Path) -> None:
    retail = online_retail(datasets).split
    assert retail.train.times.max() < datetime(2011, 10, 1, tzinfo=UTC).timestamp() <= retail.test.times.min()
    clicks = yoochoose(datasets).split
    assert clicks.train.times.max() < clicks.test.times.min()
    assert not np.isin(clicks.test.sessions, clicks.train.sessions).any()
