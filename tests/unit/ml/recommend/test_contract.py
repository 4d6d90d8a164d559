"""Every model, the hybrid included, keeps the same interface contract."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from shopsight.ml.recommend.base import NotFitted, Ranked, Recommender
from shopsight.ml.recommend.hybrid import HybridRecommender
from shopsight.ml.recommend.interactions import Interactions, ItemCatalog
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

SINGLE: list[Callable[[], Recommender]] = [
    PopularityRecommender,
    SegmentPopularityRecommender,
    TrendingRecommender,
    ItemKNNRecommender,
    SessionCovisitationRecommender,
    BoughtTogetherRecommender,
    lambda: ALSRecommender(factors=8, iterations=5),
    lambda: BPRRecommender(factors=8, iterations=20),
    ContentRecommender,
]
MODELS = [*SINGLE, lambda: HybridRecommender([PopularityRecommender, ItemKNNRecommender, ContentRecommender])]
IDS = ["popularity", "segment", "trending", "item-knn", "session", "fbt", "als", "bpr", "content", "hybrid"]


@pytest.fixture(params=MODELS, ids=IDS)
def model(request: pytest.FixtureRequest, shop: Interactions, catalog: ItemCatalog) -> Recommender:
    build: Callable[[], Recommender] = request.param
    return build().fit(shop, catalog)


def _check(answer: Ranked, k: int, known: set[str], exclude: set[str]) -> None:
    assert len(answer) == k
    assert len(set(answer.ids())) == k, "no duplicates"
    assert set(answer.ids()) <= known
    assert not set(answer.ids()) & exclude
    assert np.all(np.diff(answer.scores) <= 1e-9), "best first"


def test_every_question_returns_ranked_known_items(model: Recommender, catalog: ItemCatalog) -> None:
    known = set(catalog.items.tolist())
    _check(model.recommend_for_user("u1", k=5, exclude={"i0", "i1"}), 5, known, {"i0", "i1"})
    _check(model.similar_items("i3", k=5), 5, known, {"i3"})
    _check(model.for_session(["i3", "i4"], k=5, exclude={"i5"}), 5, known, {"i5"})
    _check(model.for_cart(["i3", "i12"], k=5), 5, known, {"i3", "i12"})


def test_unknown_ids_still_get_an_answer(model: Recommender, catalog: ItemCatalog) -> None:
    known = set(catalog.items.tolist())
    _check(model.recommend_for_user("nobody", k=3), 3, known, set())
    _check(model.for_session(["no-such-item"], k=3), 3, known, set())
    _check(model.for_cart([], k=3), 3, known, set())


def test_same_seed_same_answer(shop: Interactions, catalog: ItemCatalog) -> None:
    first = ALSRecommender(factors=8, iterations=5).fit(shop, catalog).recommend_for_user("u1", k=5)
    second = ALSRecommender(factors=8, iterations=5).fit(shop, catalog).recommend_for_user("u1", k=5)
    assert first.ids() == second.ids()


@pytest.mark.parametrize("build", SINGLE[:1])
def test_asking_before_fit_fails(build: Callable[[], Recommender]) -> None:
    with pytest.raises(NotFitted):
        build().recommend_for_user("u1")
