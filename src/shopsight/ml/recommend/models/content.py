"""Content-based recommendations: TF-IDF similarity to the context plus the user's category affinity."""

from __future__ import annotations

from shopsight.ml.recommend.base import Indices, ScoringModel
from shopsight.ml.recommend.content_index import ContentIndex
from shopsight.ml.recommend.encoding import Encoded
from shopsight.ml.recommend.interactions import Floats, ItemCatalog

# How much the category affinity adds to the text similarity (both lie in [0, 1]).
CATEGORY_WEIGHT = 0.3


class ContentRecommender(ScoringModel):
    """TF-IDF similarity to the context items plus category affinity; needs a catalog with text."""

    name = "content"

    def __init__(self) -> None:
        super().__init__()
        self._index: ContentIndex | None = None

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        if catalog is None:
            raise ValueError("the content model needs an item catalog with text")
        self._index = ContentIndex.build(data.items, catalog)

    def _context_scores(self, items: Indices, weights: Floats) -> Floats:
        assert self._index is not None
        text = self._index.profile_scores(items, weights)
        return text + CATEGORY_WEIGHT * self._index.category_affinity(items, weights)
