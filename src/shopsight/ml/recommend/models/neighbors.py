"""Neighbourhood models on sparse item x item matrices: item-kNN, session co-visitation, bought together."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]

from shopsight.ml.recommend.base import Indices, ScoringModel
from shopsight.ml.recommend.encoding import Encoded
from shopsight.ml.recommend.interactions import Floats, ItemCatalog

# Neighbours kept per item: enough for any top-k answer, small enough to keep the matrices sparse.
NEIGHBOURS = 200


def keep_top(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest entries (rows with fewer stay as they are)."""
    matrix = sp.csr_matrix(matrix)
    matrix.eliminate_zeros()
    lengths = np.diff(matrix.indptr)
    if not len(lengths) or lengths.max() <= k:
        return matrix
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    # Sort by row, then by value descending; the first k of each row survive.
    order = np.lexsort((-matrix.data, rows))
    rank = np.arange(len(order)) - np.repeat(matrix.indptr[:-1], lengths)
    keep = order[rank < k]
    return sp.csr_matrix((matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape)


def cosine(rows: sp.csr_matrix) -> sp.csr_matrix:
    """Cosine similarity between the columns of ``rows`` (items), as a sparse item x item matrix."""
    gram = sp.csr_matrix(rows.T @ rows)
    norms = np.sqrt(gram.diagonal())
    inverse = sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
    return sp.csr_matrix(inverse @ gram @ inverse)


def context_scores(similarity: sp.csr_matrix, items: Indices, weights: Floats) -> Floats:
    """Sum over the context items of their weighted similarity rows."""
    if not len(items):
        return np.zeros(similarity.shape[1])
    combined = sp.csr_matrix(weights.reshape(1, -1)) @ similarity[items]
    return np.asarray(combined.toarray(), dtype=np.float64).ravel()


class NeighbourModel(ScoringModel):
    """A model whose scores are weighted rows of one item x item matrix."""

    def __init__(self) -> None:
        super().__init__()
        self._similarity = sp.csr_matrix((0, 0))

    def _context_scores(self, items: Indices, weights: Floats) -> Floats:
        return context_scores(self._similarity, items, weights)


class ItemKNNRecommender(NeighbourModel):
    """Item-item cosine similarity on the binary user x item matrix."""

    name = "item-knn"

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        self._similarity = keep_top(cosine(data.binary()), NEIGHBOURS)


def session_order(data: Encoded) -> tuple[Indices, Indices]:
    """Sessions and items of every interaction, sorted by session then time."""
    order = np.lexsort((data.times, data.sessions))
    return data.sessions[order], data.item_index[order]


def covisitation(data: Encoded, window: int, backward: float) -> sp.csr_matrix:
    """Item -> later item counts within ``window`` steps of a session, weighted 1/steps.

    The reverse direction counts ``backward`` times as much (a view after is weaker evidence than before).
    """
    sessions, items = session_order(data)
    rows, cols, values = [], [], []
    for step in range(1, window + 1):
        same = sessions[step:] == sessions[:-step]
        first, then = items[:-step][same], items[step:][same]
        rows += [first, then]
        cols += [then, first]
        values += [np.full(len(first), 1.0 / step), np.full(len(first), backward / step)]
    n = len(data.items)
    if not rows:
        return sp.csr_matrix((n, n))
    counts = sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    counts.sum_duplicates()
    return counts


def row_normalized(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its sum (a conditional distribution over next items)."""
    sums = np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()
    inverse = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(sp.diags(inverse) @ matrix)


class SessionCovisitationRecommender(NeighbourModel):
    """Next item from session co-visitation, the most recent session items weighing most."""

    name = "session-knn"

    def __init__(self, window: int = 5, backward: float = 0.5) -> None:
        super().__init__()
        self.window = window
        self.backward = backward

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        counts = covisitation(data, self.window, self.backward)
        self._similarity = keep_top(row_normalized(counts), NEIGHBOURS)


class BoughtTogetherRecommender(NeighbourModel):
    """Frequently bought together: how often an item shares a basket (session, order) with another.

    ``shrink`` damps pairs of rare items, whose confidence rests on a handful of baskets.
    """

    name = "fbt"

    def __init__(self, shrink: float = 5.0) -> None:
        super().__init__()
        self.shrink = shrink

    def _fit(self, data: Encoded, catalog: ItemCatalog | None) -> None:
        baskets = data.sessions_matrix()
        together = sp.csr_matrix(baskets.T @ baskets)
        together.setdiag(0.0)
        baskets_per_item = np.asarray(baskets.sum(axis=0), dtype=np.float64).ravel()
        confidence = sp.diags(1.0 / (baskets_per_item + self.shrink)) @ together
        self._similarity = keep_top(sp.csr_matrix(confidence), NEIGHBOURS)
