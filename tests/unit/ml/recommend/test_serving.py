"""Serving: precomputed candidates, real-time session and cart re-ranking, rules and cold start hold."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from shopsight.metadata.db import open_metadata
from shopsight.ml.recommend.base import Ranked
from shopsight.ml.recommend.interactions import Interactions, ItemCatalog
from shopsight.ml.recommend.models.neighbors import ItemKNNRecommender
from shopsight.ml.recommend.registry import ModelRegistry
from shopsight.ml.recommend.rules import BusinessRules
from shopsight.ml.recommend.serving import (
    RECOMMENDER,
    Answer,
    CompiledRules,
    LiveRecommender,
    RecommenderService,
    ServingBundle,
)
from shopsight.ml.recommend.training import TrainingData, build_bundle

DAY = 86_400.0

CATEGORY = {f"i{i}": ("garden", "kitchen", "toys")[i // 10] for i in range(30)} | {"new-pan": "kitchen"}


@pytest.fixture
def shop_sessions(shop: Interactions) -> Interactions:
    """The shop with real sessions: each user's interactions of one 10-day stretch."""
    stretch = (shop.times // (10 * DAY)).astype(int).astype(str)
    return shop.with_sessions(np.char.add(np.char.add(shop.users, "|"), stretch))


@pytest.fixture
def bundle(shop_sessions: Interactions, catalog: ItemCatalog) -> ServingBundle:
    model = ItemKNNRecommender().fit(shop_sessions, catalog)
    return build_bundle(model, TrainingData(shop_sessions, catalog, out_of_stock=frozenset({"i1"})))


@pytest.fixture
def plain(bundle: ServingBundle) -> RecommenderService:
    """The service without boosts, stock or diversity rules: the models' order as it is."""
    return RecommenderService(bundle, version=3, rules=BusinessRules())


@pytest.fixture
def service(bundle: ServingBundle) -> RecommenderService:
    return RecommenderService(bundle, version=3)


def ids(answer: Answer) -> list[str]:
    return [item.item_id for item in answer.items]


def all_routes(service: RecommenderService) -> list[Answer]:
    return [
        service.for_user("u1", k=10), service.for_user("stranger", k=10), service.similar("i3", k=10),
        service.similar("unknown", k=10), service.for_session(["i2", "i12"], k=10),
        service.for_cart(["i5"], k=10),
    ]  # fmt: skip


def test_answers_name_model_and_version_and_fill_k(service: RecommenderService) -> None:
    for answer in all_routes(service):
        assert (answer.model, answer.version) == ("item-knn", 3)
        assert len(answer.items) == 10 and len(set(ids(answer))) == 10
        scores = [item.score for item in answer.items]
        assert scores == sorted(scores, reverse=True)


def test_business_rules_hold_through_every_route(bundle: ServingBundle) -> None:
    rules = BusinessRules(
        out_of_stock=frozenset({"i0", "i10"}), blocked=frozenset({"i20", "i11"}), pinned=("i29", "i0"),
        categories={item: c for item, c in CATEGORY.items()}, max_per_category=3,
    )  # fmt: skip
    service = RecommenderService(bundle, version=1, rules=rules)
    for answer in all_routes(service):
        shown = ids(answer)
        assert not {"i0", "i10", "i20", "i11"} & set(shown)
        assert shown[0] == "i29" and answer.items[0].source == "pinned"  # pinned first; i0 is out of stock
        ranked = [CATEGORY[item] for item in shown[1:]]  # pinned items do not count against the cap
        assert max(ranked.count(c) for c in set(ranked)) <= 3
        assert len(shown) == 10


def test_bundle_out_of_stock_items_are_never_served(service: RecommenderService) -> None:
    assert "i1" not in {item for answer in all_routes(service) for item in ids(answer)}
    assert "i1" in ids(
        RecommenderService(service.bundle, 1, rules=BusinessRules()).for_user("stranger", k=10)
    )


def test_compiled_rules_equal_business_rules(bundle: ServingBundle) -> None:
    rng = np.random.default_rng(3)
    rules = BusinessRules(
        out_of_stock=frozenset({"i4"}), non_repeatable=frozenset({"i5", "i6"}), blocked=frozenset({"i7"}),
        pinned=("i8", "i9"), boosts={"i12": 1.5, "i22": 1.3}, categories=dict(CATEGORY), max_per_category=2,
    )  # fmt: skip
    compiled = CompiledRules(rules, bundle.items)
    row_of = {item: n for n, item in enumerate(bundle.items.tolist())}
    for _ in range(20):
        rows = rng.permutation(len(bundle.items))[:25]
        scores = np.sort(rng.random(25))[::-1].copy()
        bought = ["i5", "i12"]
        expected = rules.apply(Ranked(bundle.items[rows], scores), k=8, bought=bought)
        got = compiled.apply(rows, scores, k=8, bought=np.array([row_of[b] for b in bought]))
        assert [str(bundle.items[c.row]) for c in got] == expected.ids()
        assert [c.score for c in got] == pytest.approx(expected.scores.tolist())


def test_a_cold_start_user_gets_popularity(
    plain: RecommenderService, bundle: ServingBundle, shop: Interactions
) -> None:
    answer = plain.for_user("never-seen", k=5)
    assert ids(answer) == bundle.items[np.argsort(-bundle.popularity, kind="stable")[:5]].tolist()
    assert {item.source for item in answer.items} == {"popularity"}
    for segment in ("GB", "FR"):
        in_segment = plain.for_user("never-seen", k=5, segment=segment)
        assert {item.source for item in in_segment.items} == {"segment-popularity"}
        counts = np.unique(shop.items[shop.segments == segment], return_counts=True)
        assert in_segment.items[0].item_id == counts[0][np.argmax(counts[1])]  # most touched in the segment
    assert plain.for_user("never-seen", k=5, segment="Mars").items == answer.items  # unknown segment: global


def test_a_known_user_gets_their_precomputed_list(plain: RecommenderService) -> None:
    for user, favourite in (("u3", "garden"), ("u4", "kitchen"), ("u5", "toys")):
        answer = plain.for_user(user, k=10)
        assert {item.source for item in answer.items} == {"personal"}
        # Users favour category u % 3; item-kNN candidates follow their history.
        assert sum(CATEGORY[item] == favourite for item in ids(answer)) >= 6, (user, ids(answer))


def test_unknown_item_gets_popularity_and_new_item_content(service: RecommenderService) -> None:
    unknown = service.similar("not-in-catalog", k=5)
    assert {item.source for item in unknown.items} == {"popularity"}
    new = service.similar("new-pan", k=5)  # in the catalog, never touched: content neighbours
    assert new.items[0].source == "content" and CATEGORY[new.items[0].item_id] == "kitchen"
    assert "new-pan" not in ids(new)
    known = service.similar("i3", k=5)
    assert known.items[0].source == "similar" and "i3" not in ids(known)


def test_session_re_ranking_follows_the_recent_items(plain: RecommenderService) -> None:
    garden = plain.for_session(["i2", "i3", "i4"], k=6)
    turned = plain.for_session(["i2", "i3", "i12", "i13", "i14"], k=6)  # the latest items weigh most

    def count(answer: Answer, category: str) -> int:
        return sum(CATEGORY[item] == category for item in ids(answer))

    assert count(garden, "garden") >= 4 and count(garden, "kitchen") <= 1, ids(garden)  # 2 by chance
    assert count(turned, "kitchen") >= 3 and count(turned, "garden") < count(garden, "garden"), ids(turned)
    assert not {"i2", "i3", "i4"} & set(ids(garden))  # items just seen are not proposed again
    assert garden.items[0].source == "session"
    assert {item.source for item in plain.for_session(["nope"], k=3).items} == {"popularity"}


def test_cart_complements_never_repeat_the_cart(service: RecommenderService) -> None:
    answer = service.for_cart(["i2", "i15"], k=10)
    assert not {"i2", "i15"} & set(ids(answer))
    assert answer.items[0].source == "fbt"


def test_bundle_survives_save_and_load(bundle: ServingBundle, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    bundle.save(buffer)
    path = tmp_path / "bundle.npz"
    path.write_bytes(buffer.getvalue())
    loaded = RecommenderService(ServingBundle.load(path), version=3)
    assert all_routes(loaded) == all_routes(RecommenderService(bundle, version=3))


def test_live_recommender_follows_the_active_pointer(bundle: ServingBundle, tmp_path: Path) -> None:
    registry = ModelRegistry(open_metadata(f"sqlite:///{tmp_path / 'm.sqlite'}"), tmp_path / "models")
    now = [0.0]
    live = LiveRecommender(registry, refresh_seconds=5.0, clock=lambda: now[0])
    assert live.current() is None
    for _ in range(2):
        registry.register(RECOMMENDER, params={}, metrics={}, write_artifact=bundle.save)
    registry.activate(RECOMMENDER, 1)
    assert live.current() is None  # checked less than refresh_seconds ago: no database hit
    now[0] = 5.0
    first = live.current()
    assert first is not None and first.version == 1
    registry.activate(RECOMMENDER, 2)
    now[0] = 10.0
    second = live.current()
    assert second is not None and second.version == 2 and live.current() is second
    registry.rollback(RECOMMENDER)
    now[0] = 15.0
    rolled_back = live.current()
    assert rolled_back is not None and rolled_back.version == 1
