"""Business rules applied after ranking: what may not be shown, what is boosted, pinned or spread out.

Ask a model for more than ``k`` items (say ``4 * k``) so the rules have room to drop and re-order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

from shopsight.ml.recommend.base import Ranked
from shopsight.ml.recommend.interactions import DAY_SECONDS, ItemCatalog


@dataclass(frozen=True)
class BusinessRules:
    """Merchandising rules; every field is optional.

    ``boosts`` multiply an item's score after it is scaled to [0.1, 1] (1.2 = +20%); ``max_per_category``
    caps how many items of one category the answer may hold (``categories`` maps item -> category).
    """

    out_of_stock: frozenset[str] = frozenset()
    non_repeatable: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()
    pinned: tuple[str, ...] = ()
    boosts: Mapping[str, float] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    max_per_category: int | None = None

    def apply(self, ranked: Ranked, *, k: int, bought: Collection[str] = ()) -> Ranked:
        """The top ``k`` after the rules; ``bought`` are the user's past purchases."""
        banned = self.out_of_stock | self.blocked | (self.non_repeatable & frozenset(bought))
        allowed = np.array([item not in banned for item in ranked.ids()], dtype=np.bool_)
        items, scores = self._boosted(ranked.items[allowed], ranked.scores[allowed])
        pinned = [item for item in self.pinned if item not in banned]  # pinned items come first, in order
        rest = [(str(i), float(s)) for i, s in zip(items, scores, strict=True) if str(i) not in pinned]
        top = max((s for _, s in rest), default=0.0)
        chosen = [(item, top + len(pinned) - n) for n, item in enumerate(pinned)] + self._diverse(rest)
        chosen = chosen[:k]
        return Ranked(
            items=np.array([i for i, _ in chosen], dtype=np.str_), scores=np.array([s for _, s in chosen])
        )

    def _boosted(self, items: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores scaled to [0.1, 1], multiplied by their boosts, re-sorted."""
        if not self.boosts or not len(items):
            return items, scores
        low, high = float(scores.min()), float(scores.max())
        # Scaled to [0.1, 1] so that even the last item can be lifted by a boost.
        scaled = 0.1 + 0.9 * (scores - low) / (high - low) if high > low else np.ones(len(scores))
        boosted = scaled * np.array([self.boosts.get(str(i), 1.0) for i in items])
        order = np.argsort(-boosted, kind="stable")
        return items[order], boosted[order]

    def _diverse(self, ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """Keep the order, skipping items whose category already holds ``max_per_category`` items."""
        if self.max_per_category is None:
            return ranked
        seen: Counter[str] = Counter()
        kept = []
        for item, item_score in ranked:
            category = self.categories.get(item)
            if category is not None:
                if seen[category] >= self.max_per_category:
                    continue
                seen[category] += 1
            kept.append((item, item_score))
        return kept


def margin_boosts(catalog: ItemCatalog, strength: float = 0.5) -> dict[str, float]:
    """1 + ``strength`` x margin for every item with a known margin (margin 40% -> x1.2 at 0.5)."""
    if not len(catalog.margins):
        return {}
    known = ~np.isnan(catalog.margins)
    factors = 1.0 + strength * catalog.margins[known]
    return dict(zip(catalog.items[known].tolist(), factors.tolist(), strict=True))


def new_arrival_boosts(
    catalog: ItemCatalog, *, now: float, days: float = 30.0, factor: float = 1.2
) -> dict[str, float]:
    """``factor`` for every item listed within ``days`` before ``now`` (unix seconds)."""
    if not len(catalog.created_at):
        return {}
    fresh = (now - catalog.created_at) <= days * DAY_SECONDS
    return dict.fromkeys(catalog.items[fresh].tolist(), factor)
