"""Serving: precomputed candidates per user and per item, re-ranked per request, business rules last.

Training (:mod:`shopsight.ml.recommend.training`) turns a fitted model into a :class:`ServingBundle` of
plain numpy arrays: each user's and each item's top candidates, session co-visitation and
bought-together neighbours (sparse rows), popularity (global and per segment), and what the business
rules need. :class:`RecommenderService` answers from those arrays with dict lookups and a few numpy
operations, so a request costs tens of microseconds and never touches pandas, a model or the database.
:class:`LiveRecommender` follows the registry's active pointer, checking it at most every few seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO

import numpy as np
from numpy.typing import NDArray

from shopsight.config import Settings
from shopsight.ml.recommend.base import position_weights
from shopsight.ml.recommend.interactions import Floats, Ids
from shopsight.ml.recommend.names import RECOMMENDER as RECOMMENDER
from shopsight.ml.recommend.registry import ModelRegistry, ModelVersion
from shopsight.ml.recommend.rules import BusinessRules

# The rules may drop and re-order: they see this many times k candidates.
RULES_ROOM = 4
# At most this many items of one category in an answer (category diversity).
MAX_PER_CATEGORY = 4
# Session items older than the latest this many are ignored (their weight is tiny anyway).
SESSION_WINDOW = 20
# How much the model's item neighbours count in a session next to session co-visitation.
SIMILAR_WEIGHT = 0.5

Rows = NDArray[np.int32]
_NONE_ROWS: NDArray[np.intp] = np.zeros(0, dtype=np.intp)
Scores32 = NDArray[np.float32]


@dataclass(frozen=True)
class ServingBundle:
    """Everything serving needs, as arrays; candidate matrices are padded with -1 / NaN.

    ``*_start`` arrays are CSR row pointers into the matching ``*_items`` / ``*_scores`` arrays.
    """

    model: NDArray[np.str_]  # 0-d: the model's name
    items: Ids
    popularity: Floats
    users: Ids
    user_candidates: Rows
    user_scores: Scores32
    bought_start: Rows
    bought_items: Rows
    similar_candidates: Rows
    similar_scores: Scores32
    session_start: Rows
    session_items: Rows
    session_scores: Scores32
    cart_start: Rows
    cart_items: Rows
    cart_scores: Scores32
    segments: Ids
    segment_candidates: Rows
    segment_scores: Scores32
    categories: Ids
    boosts: Floats
    out_of_stock: NDArray[np.bool_]

    @property
    def model_name(self) -> str:
        """The name of the model that produced the candidates."""
        return str(self.model)

    def save(self, handle: IO[bytes]) -> None:
        """Write every array to ``handle`` (an uncompressed ``.npz``, no pickles)."""
        np.savez(handle, **{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, path: Path) -> ServingBundle:
        """Read a bundle written by :meth:`save` (refuses pickled objects)."""
        with np.load(path, allow_pickle=False) as stored:
            return cls(**{f.name: stored[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Recommended:
    """One recommended item and where it came from (``personal``, ``session``, ``popularity``...)."""

    item_id: str
    score: float
    source: str


@dataclass(frozen=True)
class Answer:
    """A served answer: the model and version that produced it, best items first."""

    model: str
    version: int
    items: list[Recommended]


def rules_of(bundle: ServingBundle) -> BusinessRules:
    """The bundle's rules: out-of-stock items hidden, margin / new-arrival boosts, category diversity."""
    boosted = bundle.boosts != 1.0
    known = bundle.categories != ""
    return BusinessRules(
        out_of_stock=frozenset(bundle.items[bundle.out_of_stock].tolist()),
        boosts=dict(zip(bundle.items[boosted].tolist(), bundle.boosts[boosted].tolist(), strict=True)),
        categories=dict(zip(bundle.items[known].tolist(), bundle.categories[known].tolist(), strict=True)),
        max_per_category=MAX_PER_CATEGORY,
    )


@dataclass(frozen=True)
class Candidates:
    """Item rows, their scores and each one's source, best first."""

    rows: NDArray[np.intp]
    scores: Floats
    sources: list[str]


def _valid(rows: Rows, scores: Scores32) -> tuple[NDArray[np.intp], Floats]:
    kept = rows >= 0
    return rows[kept].astype(np.intp), scores[kept].astype(np.float64)


@dataclass(frozen=True)
class Chosen:
    """One answer slot: the item row, its final score, and its position among the candidates (-1: pinned)."""

    row: int
    score: float
    position: int


class CompiledRules:
    """:class:`BusinessRules` turned into per-item arrays, so applying them costs microseconds.

    Same results as :meth:`BusinessRules.apply` on the same candidates (a unit test holds them equal);
    pinned ids unknown to the bundle are skipped (there is nothing to show for them).
    """

    def __init__(self, rules: BusinessRules, items: Ids) -> None:
        self.banned = np.isin(items, np.array(sorted(rules.out_of_stock | rules.blocked), dtype=np.str_))
        self.non_repeatable = np.isin(items, np.array(sorted(rules.non_repeatable), dtype=np.str_))
        row_of = {item: row for row, item in enumerate(items.tolist())}
        self.boosts = (
            np.array([rules.boosts.get(item, 1.0) for item in items.tolist()]) if rules.boosts else None
        )
        self.pinned = [row_of[item] for item in rules.pinned if item in row_of]
        names = sorted(set(rules.categories.values()))
        code = {name: n for n, name in enumerate(names)}
        self.category = np.array([code.get(rules.categories.get(item, ""), -1) for item in items.tolist()])
        self.cap = rules.max_per_category

    def apply(
        self, rows: NDArray[np.intp], scores: Floats, *, k: int, bought: NDArray[np.intp]
    ) -> list[Chosen]:
        """The top ``k`` after the rules; ``bought`` are the rows of the user's past purchases."""
        banned = self.banned.copy()
        if len(bought):
            banned[bought] |= self.non_repeatable[bought]
        positions = np.flatnonzero(~banned[rows])
        positions, scores = self._boosted(positions, rows[positions], scores[positions])
        pinned = [row for row in self.pinned if not banned[row]]
        if pinned:
            rest = ~np.isin(rows[positions], pinned)
            positions, scores = positions[rest], scores[rest]
        top = float(scores.max()) if len(scores) else 0.0
        chosen = [Chosen(row, top + len(pinned) - n, -1) for n, row in enumerate(pinned)][:k]
        return chosen + self._diverse(rows, positions, scores, k - len(chosen))

    def _boosted(
        self, positions: NDArray[np.intp], rows: NDArray[np.intp], scores: Floats
    ) -> tuple[NDArray[np.intp], Floats]:
        if self.boosts is None or not len(rows):
            return positions, scores
        low, high = float(scores.min()), float(scores.max())
        scaled = 0.1 + 0.9 * (scores - low) / (high - low) if high > low else np.ones(len(scores))
        boosted = scaled * self.boosts[rows]
        order = np.argsort(-boosted, kind="stable")
        return positions[order], boosted[order]

    def _diverse(
        self, rows: NDArray[np.intp], positions: NDArray[np.intp], scores: Floats, room: int
    ) -> list[Chosen]:
        """In order, skipping items whose category already holds ``cap`` items, until ``room`` are chosen."""
        chosen: list[Chosen] = []
        seen: dict[int, int] = {}
        categories = self.category[rows[positions]].tolist()
        for position, score, category in zip(positions.tolist(), scores.tolist(), categories, strict=True):
            if len(chosen) >= room:
                break
            if self.cap is not None and category >= 0:
                if seen.get(category, 0) >= self.cap:
                    continue
                seen[category] = seen.get(category, 0) + 1
            chosen.append(Chosen(int(rows[position]), score, position))
        return chosen


class RecommenderService:
    """Answers the four questions from one bundle; thread-safe (it never changes after construction)."""

    def __init__(self, bundle: ServingBundle, version: int, rules: BusinessRules | None = None) -> None:
        self.bundle, self.version = bundle, version
        self.model = bundle.model_name
        self.rules = rules if rules is not None else rules_of(bundle)
        self._item_row = {item: row for row, item in enumerate(bundle.items.tolist())}
        self._user_row = {user: row for row, user in enumerate(bundle.users.tolist())}
        self._segment_row = {segment: row for row, segment in enumerate(bundle.segments.tolist())}
        self._by_popularity = np.argsort(-bundle.popularity, kind="stable")
        self._has_interactions = bundle.popularity > 0
        self._compiled = CompiledRules(self.rules, bundle.items)
        self._needs_history = bool(self.rules.non_repeatable)

    def for_user(self, user_id: str, *, k: int = 10, segment: str | None = None) -> Answer:
        """The user's precomputed candidates; an unseen user gets segment (else global) popularity."""
        row = self._user_row.get(user_id)
        if row is None:
            return self._answer(self._popular(k, segment), k)
        depth = RULES_ROOM * k
        rows, scores = _valid(self.bundle.user_candidates[row, :depth], self.bundle.user_scores[row, :depth])
        bought = self._bought(row) if self._needs_history else _NONE_ROWS
        found = Candidates(rows, scores, ["personal"] * len(rows))
        return self._answer(self._filled(found, k, exclude=[]), k, bought=bought)

    def similar(self, item_id: str, *, k: int = 10) -> Answer:
        """Items like ``item_id``: precomputed neighbours (content ones for a new item), else popularity."""
        row = self._item_row.get(item_id)
        if row is None:
            return self._answer(self._popular(k, None), k)
        depth = RULES_ROOM * k
        rows, scores = _valid(
            self.bundle.similar_candidates[row, :depth], self.bundle.similar_scores[row, :depth]
        )
        source = "similar" if self._has_interactions[row] else "content"
        found = Candidates(rows, scores, [source] * len(rows))
        return self._answer(self._filled(found, k, exclude=[row]), k)

    def for_session(self, item_ids: Sequence[str], *, k: int = 10) -> Answer:
        """Next items for a live session (oldest first), re-ranked now from its recent items."""
        recent = self._rows(item_ids[-SESSION_WINDOW:])
        if not recent:
            return self._answer(self._popular(k, None), k)
        weights = position_weights(len(recent))
        covisited = self._sparse_sum(recent, weights, self.bundle.session_start, self.bundle.session_items,
                                     self.bundle.session_scores)  # fmt: skip
        similar = np.zeros(len(self.bundle.items))
        for row, weight in zip(recent, weights, strict=True):
            neighbours = self.bundle.similar_candidates[row]
            neighbours = neighbours[neighbours >= 0]
            # Rank-based, so any model's score scale blends with co-visitation shares.
            similar[neighbours] += (
                weight * SIMILAR_WEIGHT * (1.0 - np.arange(len(neighbours)) / len(neighbours))
            )
        found = self._top(
            covisited + similar, k, exclude=recent,
            source=lambda rows: np.where(covisited[rows] > 0, "session", "similar"),
        )  # fmt: skip
        return self._answer(self._filled(found, k, exclude=recent), k)

    def for_cart(self, item_ids: Sequence[str], *, k: int = 10) -> Answer:
        """Items bought together with the cart's items (never those items), else popularity."""
        cart = self._rows(item_ids)
        if not cart:
            return self._answer(self._popular(k, None), k)
        together = self._sparse_sum(cart, np.ones(len(cart)), self.bundle.cart_start, self.bundle.cart_items,
                                    self.bundle.cart_scores)  # fmt: skip
        found = self._top(together, k, exclude=cart, source=lambda rows: np.full(len(rows), "fbt"))
        return self._answer(self._filled(found, k, exclude=cart), k)

    def _rows(self, item_ids: Sequence[str]) -> list[int]:
        found = (self._item_row.get(item) for item in item_ids)
        return [row for row in found if row is not None]

    def _bought(self, user_row: int) -> NDArray[np.intp]:
        start, end = self.bundle.bought_start[user_row], self.bundle.bought_start[user_row + 1]
        return self.bundle.bought_items[start:end].astype(np.intp)

    def _sparse_sum(
        self, rows: list[int], weights: Floats, starts: Rows, items: Rows, scores: Scores32
    ) -> Floats:
        """The weighted sum of the given sparse rows, as one dense score per item."""
        total = np.zeros(len(self.bundle.items))
        for row, weight in zip(rows, weights, strict=True):
            start, end = starts[row], starts[row + 1]
            total[items[start:end]] += weight * scores[start:end]
        return total

    def _top(
        self,
        scores: Floats,
        k: int,
        *,
        exclude: list[int],
        source: Callable[[NDArray[np.intp]], NDArray[np.str_]],
    ) -> Candidates:
        """The best positive scores (at most ``RULES_ROOM * k``), never an excluded row."""
        scores[exclude] = 0.0
        positive = np.flatnonzero(scores > 0)
        wanted = min(RULES_ROOM * k, len(positive))
        if wanted < len(positive):
            positive = positive[np.argpartition(-scores[positive], wanted - 1)[:wanted]]
        best = positive[np.argsort(-scores[positive], kind="stable")]
        return Candidates(best, scores[best], source(best).tolist())

    def _popular(self, k: int, segment: str | None) -> Candidates:
        row = self._segment_row.get(segment) if segment is not None else None
        if row is None:
            best = self._by_popularity[: RULES_ROOM * k]
            return Candidates(best, self.bundle.popularity[best], ["popularity"] * len(best))
        depth = RULES_ROOM * k
        rows, scores = _valid(
            self.bundle.segment_candidates[row, :depth], self.bundle.segment_scores[row, :depth]
        )
        found = Candidates(rows, scores, ["segment-popularity"] * len(rows))
        return self._filled(found, k, exclude=[])

    def _filled(self, found: Candidates, k: int, *, exclude: list[int]) -> Candidates:
        """Popular items after ``found`` (scored below it) until the rules have room to choose."""
        missing = RULES_ROOM * k - len(found.rows)
        if missing <= 0:
            return found
        taken = np.zeros(len(self.bundle.items), dtype=np.bool_)
        taken[found.rows] = True
        taken[exclude] = True
        extra = self._by_popularity[~taken[self._by_popularity]][:missing]
        floor = float(found.scores.min()) if len(found.scores) else 0.0
        extra_scores = floor - 1.0 + self.bundle.popularity[extra] * 0.5  # below every found score
        return Candidates(
            np.concatenate([found.rows, extra]),
            np.concatenate([found.scores, extra_scores]),
            found.sources + ["popularity"] * len(extra),
        )

    def _answer(self, found: Candidates, k: int, *, bought: NDArray[np.intp] = _NONE_ROWS) -> Answer:
        chosen = self._compiled.apply(found.rows, found.scores, k=k, bought=bought)
        items, sources = self.bundle.items, found.sources
        answer = [
            Recommended(
                str(items[c.row]), round(c.score, 6), sources[c.position] if c.position >= 0 else "pinned"
            )
            for c in chosen
        ]
        return Answer(self.model, self.version, answer)


class LiveRecommender:
    """The service of the registry's active version; re-checks the pointer at most every ``refresh_seconds``.

    Requests never wait on the database between checks; a newly activated (or rolled back) version is
    served within ``refresh_seconds``.
    """

    def __init__(
        self,
        registry: ModelRegistry,
        *,
        name: str = RECOMMENDER,
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry, self.name, self.refresh_seconds, self.clock = registry, name, refresh_seconds, clock
        self._service: RecommenderService | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def current(self) -> RecommenderService | None:
        """The service of the active version, or None while no version is active."""
        checked = self._checked_at
        if checked is not None and self.clock() - checked < self.refresh_seconds:
            return self._service
        with self._lock:
            if self._checked_at == checked:  # no other thread refreshed meanwhile
                self._refresh()
        return self._service

    def _refresh(self) -> None:
        active = self.registry.active_version(self.name)
        loaded = self._service.version if self._service is not None else None
        if active is None:
            self._service = None
        elif active != loaded:
            self._service = load_service(self.registry, self.registry.get(self.name, active))
        self._checked_at = self.clock()


def models_dir(settings: Settings) -> Path:
    """Where model artifacts live: ``<home>/models``."""
    return settings.home.resolve() / "models"


def load_service(registry: ModelRegistry, version: ModelVersion) -> RecommenderService:
    """The service of one registered version, read from its artifact."""
    return RecommenderService(ServingBundle.load(registry.artifact_path(version)), version.version)
