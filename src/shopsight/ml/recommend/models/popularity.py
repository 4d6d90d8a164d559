"""Popularity baselines: global, within the user's segment, and trending (exponential time decay)."""

from __future__ import annotations

import numpy as np

from shopsight.ml.recommend.base import Indices, ScoringModel
from shopsight.ml.recommend.coldstart import normalized
from shopsight.ml.recommend.encoding import Encoded
from shopsight.ml.recommend.interactions import DAY_SECONDS, Floats, ItemCatalog


class PopularityRecommender(ScoringModel):
    """The same list for everyone: items by summed interaction weight."""

    name = "popularity"

    def __init__(self) -> None:
        super().__init__()
        self._scores: Floats = np.zeros(0)

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        self._scores = normalized(data.item_weight)

    def _context_scores(self, items: Indices, weights: Floats) -> Floats:
        return self._scores

    def _user_scores(self, user: int) -> Floats:
        return self._scores


class SegmentPopularityRecommender(PopularityRecommender):
    """Popularity within the user's latest segment (country, customer segment); global otherwise."""

    name = "popularity-segment"

    def _user_scores(self, user: int) -> Floats:
        segments = self.data.user_segment
        return self.cold.new_user(None if segments is None else str(segments[user]))


class TrendingRecommender(PopularityRecommender):
    """Popularity where an interaction's weight halves every ``half_life_days`` before the latest one."""

    name = "trending"

    def __init__(self, half_life_days: float = 14.0) -> None:
        super().__init__()
        self.half_life_days = half_life_days

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        decay = np.exp2(-(data.last_time - data.times) / (self.half_life_days * DAY_SECONDS))
        counts = np.bincount(data.item_index, weights=data.weights * decay, minlength=len(data.items))
        self._scores = normalized(counts)
