import numpy as np
import pytest

from shopsight.ml.recommend.base import Ranked
from shopsight.ml.recommend.interactions import Interactions, ItemCatalog
from shopsight.ml.recommend.models.factorization import ALSRecommender
from shopsight.ml.recommend.rules import BusinessRules, margin_boosts, new_arrival_boosts


@pytest.fixture
def ranked(shop: Interactions, catalog: ItemCatalog) -> Ranked:
    return ALSRecommender(factors=8, iterations=5).fit(shop, catalog).recommend_for_user("u4", k=31)


def test_out_of_stock_and_blocked_are_never_recommended(ranked: Ranked) -> None:
    top = ranked.ids()[:4]
    rules = BusinessRules(out_of_stock=frozenset(top[:2]), blocked=frozenset(top[2:4]))
    answer = rules.apply(ranked, k=10).ids()
    assert len(answer) == 10
    assert not set(answer) & set(top)


def test_already_bought_non_repeatables_are_dropped(ranked: Ranked) -> None:
    first, second = ranked.ids()[:2]
    rules = BusinessRules(non_repeatable=frozenset([first]))
    answer = rules.apply(ranked, k=5, bought=[first, second]).ids()
    assert first not in answer
    assert second in answer, "a repeatable purchase may be recommended again"


def test_pinned_come_first_in_order_unless_blocked(ranked: Ranked) -> None:
    last, before_last = ranked.ids()[-1], ranked.ids()[-2]
    rules = BusinessRules(pinned=(last, "i-blocked", before_last), blocked=frozenset(["i-blocked"]))
    answer = rules.apply(ranked, k=5)
    assert answer.ids()[:2] == [last, before_last]
    assert len(set(answer.ids())) == 5


def test_category_diversity_caps_each_category(ranked: Ranked, catalog: ItemCatalog) -> None:
    rules = BusinessRules(categories=catalog.category_of(), max_per_category=2)
    answer = rules.apply(ranked, k=6).ids()
    categories = [catalog.category_of()[item] for item in answer]
    assert len(answer) == 6
    assert max(categories.count(c) for c in set(categories)) <= 2


def test_boosts_lift_an_item() -> None:
    ranked = Ranked(items=np.array(["a", "b", "c"]), scores=np.array([3.0, 2.0, 1.0]))
    # Scores scale to a 1.0, b 0.55, c 0.1 before the boosts multiply them.
    assert BusinessRules(boosts={"c": 12.0}).apply(ranked, k=3).ids() == ["c", "a", "b"]
    assert BusinessRules(boosts={"b": 1.5}).apply(ranked, k=3).ids() == ["a", "b", "c"]
    assert BusinessRules(boosts={"b": 2.0}).apply(ranked, k=3).ids() == ["b", "a", "c"]


def test_margin_and_new_arrival_boosts(catalog: ItemCatalog) -> None:
    margins = margin_boosts(catalog, strength=1.0)
    assert margins["new-pan"] == pytest.approx(1.6)
    assert new_arrival_boosts(catalog, now=10 * 86_400.0, days=30) == dict.fromkeys(
        catalog.items.tolist(), 1.2
    )
    assert new_arrival_boosts(catalog, now=40 * 86_400.0, days=30) == {}
