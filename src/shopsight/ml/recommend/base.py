"""One interface for every recommender, and the shared machinery of the models that score all items.

Every model answers four questions with ranked item ids and scores: for a user, items like an item, the
next item of a live session (recent items, oldest first), and what completes a cart. ``exclude`` removes
ids from an answer. A model that scores the whole catalog subclasses :class:`ScoringModel` and implements
``_fit`` and ``_context_scores``; cold start (new users, new items) is handled here for all of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, Self

import numpy as np
from numpy.typing import NDArray

from shopsight.errors import ShopSightError
from shopsight.ml.recommend.coldstart import ColdStart
from shopsight.ml.recommend.encoding import Encoded, encode
from shopsight.ml.recommend.interactions import DAY_SECONDS, Floats, Ids, Interactions, ItemCatalog

Indices = NDArray[np.intp]
# A user's older interactions count less: weight halves every this many days before their last one.
HISTORY_HALF_LIFE_DAYS = 60.0


class NotFitted(ShopSightError):
    """A recommender asked for recommendations before ``fit``."""


@dataclass(frozen=True)
class Ranked:
    """Item ids, best first, with their scores (higher is better)."""

    items: Ids
    scores: Floats

    def __len__(self) -> int:
        return len(self.items)

    def ids(self) -> list[str]:
        """The item ids as a list."""
        return [str(i) for i in self.items]


class Recommender(Protocol):
    """What every recommendation model offers."""

    name: str

    def fit(self, train: Interactions, catalog: ItemCatalog | None = None) -> Self:
        """Learn from ``train`` (and the catalog's text and categories, when given)."""
        ...

    def recommend_for_user(
        self, user: str, *, k: int = 10, exclude: Collection[str] = (), segment: str | None = None
    ) -> Ranked:
        """Top ``k`` items for ``user``; an unknown user gets the popularity of ``segment`` (if given)."""
        ...

    def similar_items(self, item: str, *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        """Items like ``item`` (never ``item`` itself); a new item gets content similarity."""
        ...

    def for_session(
        self, recent_items: Sequence[str], *, k: int = 10, exclude: Collection[str] = ()
    ) -> Ranked:
        """The likely next items of a live session, ``recent_items`` oldest first."""
        ...

    def for_cart(self, items: Sequence[str], *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        """Items bought together with the cart's ``items`` (never those items)."""
        ...


def top_k(scores: Floats, k: int, excluded: Indices) -> Indices:
    """Indices of the ``k`` best scores, best first, never an excluded index."""
    masked = scores.copy()
    masked[excluded] = -np.inf
    k = min(k, int(np.isfinite(masked).sum()))
    if k <= 0:
        return np.array([], dtype=np.intp)
    best = np.argpartition(-masked, k - 1)[:k]
    return best[np.argsort(-masked[best], kind="stable")]


def recency_weights(times: Floats, half_life_days: float = HISTORY_HALF_LIFE_DAYS) -> Floats:
    """Exponential decay from the most recent time: 1 for the latest, 1/2 one half-life before."""
    if not len(times):
        return times
    return np.asarray(np.exp2(-(times.max() - times) / (half_life_days * DAY_SECONDS)), dtype=np.float64)


def position_weights(n: int) -> Floats:
    """Session recency by position: the last item weighs 1, the one before 1/2, then 1/3..."""
    return 1.0 / np.arange(n, 0, -1, dtype=np.float64)


class ScoringModel(ABC):
    """A model that scores every item of the training vocabulary for a context of items."""

    name = "model"

    def __init__(self) -> None:
        self._data: Encoded | None = None
        self._cold: ColdStart | None = None

    def fit(self, train: Interactions, catalog: ItemCatalog | None = None) -> Self:
        """Encode ``train``, prepare cold start, then fit the model itself."""
        data = encode(train, catalog)
        self._data = data
        self._cold = ColdStart.build(data, train, catalog)
        self._fit(data, catalog)
        return self

    @abstractmethod
    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        """Learn the model's parameters."""

    @abstractmethod
    def _context_scores(self, items: Indices, weights: Floats) -> Floats:
        """A score per vocabulary item given context items (weighted by recency)."""

    def _user_scores(self, user: int) -> Floats:
        """Scores for a known user: by default the user's history as a recency-weighted context."""
        items, times = self.data.history(user)
        return self._context_scores(items, recency_weights(times))

    def _similar_scores(self, item: int) -> Floats:
        return self._context_scores(np.array([item], dtype=np.intp), np.ones(1))

    def _cart_scores(self, items: Indices) -> Floats:
        return self._context_scores(items, np.ones(len(items)))

    @property
    def data(self) -> Encoded:
        """The encoded training data (raises :class:`NotFitted` before ``fit``)."""
        if self._data is None:
            raise NotFitted(f"{self.name} is not fitted: call fit() first")
        return self._data

    @property
    def cold(self) -> ColdStart:
        """Cold-start answers (raises :class:`NotFitted` before ``fit``)."""
        if self._cold is None:
            raise NotFitted(f"{self.name} is not fitted: call fit() first")
        return self._cold

    def recommend_for_user(
        self, user: str, *, k: int = 10, exclude: Collection[str] = (), segment: str | None = None
    ) -> Ranked:
        """Top ``k`` items for ``user``; a user unseen in training gets segment (else global) popularity."""
        index = self.data.users.find(user)
        scores = self._user_scores(index) if index >= 0 else self.cold.new_user(segment)
        return self._ranked(scores, k, exclude)

    def similar_items(self, item: str, *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        """Items like ``item``; one without interactions gets content similarity (else popularity)."""
        index = self.data.items.find(item)
        scores = self._similar_scores(index) if self.data.has_interactions(index) else None
        if scores is None or not np.any(scores > 0):
            scores = self.cold.new_item(index)
        return self._ranked(scores, k, [*exclude, item])

    def for_session(
        self, recent_items: Sequence[str], *, k: int = 10, exclude: Collection[str] = ()
    ) -> Ranked:
        """Next items of a session; unknown items are ignored, an all-unknown session gets popularity."""
        items = self._known(recent_items)
        scores = self._context_scores(items, position_weights(len(items))) if len(items) else None
        return self._ranked(self._or_popular(scores), k, exclude)

    def for_cart(self, items: Sequence[str], *, k: int = 10, exclude: Collection[str] = ()) -> Ranked:
        """Complements of the cart; unknown items are ignored, an all-unknown cart gets popularity."""
        known = self._known(items)
        scores = self._cart_scores(known) if len(known) else None
        return self._ranked(self._or_popular(scores), k, [*exclude, *items])

    def _known(self, ids: Sequence[str]) -> Indices:
        found = self.data.items.find_many(np.asarray(ids, dtype=np.str_))
        return found[found >= 0]

    def _or_popular(self, scores: Floats | None) -> Floats:
        return self.cold.new_user(None) if scores is None else scores

    def _ranked(self, scores: Floats, k: int, exclude: Collection[str]) -> Ranked:
        # Popularity breaks ties and fills the list when a model has fewer than k non-zero scores.
        filled = scores + self.cold.tie_breaker
        excluded = self.data.items.find_many(np.asarray(list(exclude), dtype=np.str_))
        best = top_k(filled, k, excluded[excluded >= 0])
        return Ranked(items=self.data.items.ids[best], scores=scores[best])
