import numpy as np

from shopsight.ml.recommend.interactions import Interactions, ItemCatalog
from shopsight.ml.recommend.models.neighbors import ItemKNNRecommender
from shopsight.ml.recommend.models.popularity import PopularityRecommender


def _top_in(shop: Interactions, segment: str, k: int) -> list[str]:
    rows = shop.segments == segment
    items, counts = np.unique(shop.items[rows], return_counts=True)
    return items[np.argsort(-counts, kind="stable")][:k].tolist()


def test_new_user_gets_segment_popularity(shop: Interactions, catalog: ItemCatalog) -> None:
    model = ItemKNNRecommender().fit(shop, catalog)
    answer = model.recommend_for_user("brand-new-user", k=3, segment="FR")
    assert answer.ids() == _top_in(shop, "FR", 3)


def test_new_user_without_context_gets_global_popularity(shop: Interactions, catalog: ItemCatalog) -> None:
    knn = ItemKNNRecommender().fit(shop, catalog)
    popular = PopularityRecommender().fit(shop, catalog)
    assert knn.recommend_for_user("brand-new-user", k=5).ids() == popular.recommend_for_user("u1", k=5).ids()


def test_new_item_gets_content_neighbours(shop: Interactions, catalog: ItemCatalog) -> None:
    model = ItemKNNRecommender().fit(shop, catalog)
    answer = model.similar_items("new-pan", k=5)
    kitchen = {f"i{i}" for i in range(10, 20)}
    assert set(answer.ids()) <= kitchen
    assert "new-pan" not in answer.ids()


def test_new_item_can_be_recommended_by_content(shop: Interactions, catalog: ItemCatalog) -> None:
    from shopsight.ml.recommend.models.content import ContentRecommender

    model = ContentRecommender().fit(shop, catalog)
    assert "new-pan" in model.similar_items("i11", k=10).ids()
