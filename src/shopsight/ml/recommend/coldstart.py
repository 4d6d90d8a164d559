"""Cold start: a new user gets the popularity of their context (segment), a new item content neighbours."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shopsight.ml.recommend.content_index import ContentIndex
from shopsight.ml.recommend.encoding import Encoded, Vocabulary
from shopsight.ml.recommend.interactions import Floats, Interactions, ItemCatalog

# Scale of the popularity tie-breaker added to every model's scores: far below any real score gap.
TIE_BREAK = 1e-6


def normalized(values: NDArray[Any]) -> Floats:
    """Scores divided by their maximum (all zeros stay zeros)."""
    scores = np.asarray(values, dtype=np.float64)
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores


def segment_popularity(data: Encoded, train: Interactions) -> dict[str, Floats]:
    """Normalized interaction weight per item within each segment of ``train`` (``data`` is its encoding)."""
    names, segment_index = data.segment_names, data.segment_index
    if train.segments is None or not len(train) or names is None or segment_index is None:
        return {}
    # The encoding already holds each row's segment and item as indices: no second pass over the text.
    flat = segment_index * len(data.items) + data.item_index
    counts = np.bincount(flat, weights=data.weights, minlength=len(names) * len(data.items))
    table = counts.reshape(len(names), len(data.items))
    return {str(name): normalized(row) for name, row in zip(names, table, strict=True)}


@dataclass(frozen=True)
class ColdStart:
    """Answers for users and items the model never saw interact."""

    popularity: Floats
    segments: dict[str, Floats]
    items: Vocabulary
    catalog: ItemCatalog | None

    @classmethod
    def build(cls, data: Encoded, train: Interactions, catalog: ItemCatalog | None) -> ColdStart:
        """Global and per-segment popularity from ``train``; content neighbours from the catalog."""
        return cls(normalized(data.item_weight), segment_popularity(data, train), data.items, catalog)

    @cached_property
    def content(self) -> ContentIndex | None:
        """The catalog's TF-IDF index, built on first use.

        Only an item without interactions needs it, and most fits never meet one (evaluation, the hybrid's
        sources): building it at fit time cost as much as encoding the interactions.
        """
        return ContentIndex.build(self.items, self.catalog) if self.catalog is not None else None

    @property
    def tie_breaker(self) -> Floats:
        """A tiny popularity score that orders otherwise equal items."""
        return self.popularity * TIE_BREAK

    def new_user(self, segment: str | None) -> Floats:
        """Popularity within ``segment`` when it is known, else global popularity."""
        return self.segments.get(segment, self.popularity) if segment is not None else self.popularity

    def new_item(self, item: int) -> Floats:
        """Content similarity to ``item`` when it has text, else global popularity."""
        if self.content is None or item < 0 or not self.content.has_text(item):
            return self.popularity
        return self.content.similar(item)
