"""Content-based recommendations from sentence embeddings of the item text, plus the user's category affinity.

The same model as :class:`~shopsight.ml.recommend.models.content.ContentRecommender` with all-MiniLM-L6-v2
embeddings in place of TF-IDF vectors: similar items are cosine neighbours, a user, session or cart is the
weighted mean embedding of its items. Needs the optional ``embeddings`` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from shopsight.ml.recommend.base import Indices, NotFitted, Ranked, ScoringModel
from shopsight.ml.recommend.content_index import category_affinity
from shopsight.ml.recommend.embedding_index import EmbeddingIndex, TextEncoder, load_minilm
from shopsight.ml.recommend.encoding import Encoded
from shopsight.ml.recommend.interactions import Floats, ItemCatalog
from shopsight.ml.recommend.models.content import CATEGORY_WEIGHT


class ContentEmbeddingsRecommender(ScoringModel):
    """Embedding similarity to the context items plus category affinity; needs a catalog with text.

    ``encoder`` is loaded at fit time when not given (all-MiniLM-L6-v2 by default); hand one in to share a
    loaded model between fits.
    """

    name = "content-embeddings"

    def __init__(
        self, encoder: TextEncoder | None = None, load_encoder: Callable[[], TextEncoder] = load_minilm
    ) -> None:
        super().__init__()
        self._encoder = encoder
        self._load_encoder = load_encoder
        self._index: EmbeddingIndex | None = None

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        if catalog is None:
            raise ValueError("the content-embeddings model needs an item catalog with text")
        encoder = self._encoder if self._encoder is not None else self._load_encoder()
        self._index = EmbeddingIndex.build(data.items, catalog, encoder)

    @property
    def index(self) -> EmbeddingIndex:
        """The item embeddings (raises :class:`~shopsight.ml.recommend.base.NotFitted` before ``fit``)."""
        if self._index is None:
            raise NotFitted(f"{self.name} is not fitted: call fit() first")
        return self._index

    def _context_scores(self, items: Indices, weights: Floats) -> Floats:
        text = self.index.profile_scores(items, weights)
        return text + CATEGORY_WEIGHT * category_affinity(self.index.categories, items, weights)

    def similar_items(self, item: str, *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        """Embedding neighbours of ``item``, with or without interactions; popularity when it has no text."""
        index = self.data.items.find(item)
        if not self.index.has_text(index):
            return super().similar_items(item, k=k, exclude=exclude)
        scores = self._similar_scores(index)
        return self._ranked(scores, k, [*exclude, item])
