"""Ranking metrics over a batch of queries, computed from a query x rank hit matrix.

``hits[q, r]`` is True when the item at rank ``r`` (0-based) of query ``q`` is relevant; ``relevant[q]``
is how many items query ``q`` has as truth. Every function returns the mean over queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Hits = NDArray[np.bool_]
Counts = NDArray[np.int64]


def hit_matrix(recommended: Sequence[Sequence[str]], truths: Sequence[frozenset[str]], k: int) -> Hits:
    """Which of the first ``k`` recommendations of each query are in its truth (short lists padded)."""
    hits = np.zeros((len(recommended), k), dtype=np.bool_)
    for row, (items, truth) in enumerate(zip(recommended, truths, strict=True)):
        flags = [item in truth for item in items[:k]]
        hits[row, : len(flags)] = flags
    return hits


def _mean(values: NDArray[Any] | np.floating[Any]) -> float:
    return float(np.mean(values)) if np.size(values) else 0.0


def recall_at_k(hits: Hits, relevant: Counts, k: int) -> float:
    """Share of each query's relevant items found in the top ``k``."""
    found = hits[:, :k].sum(axis=1).astype(np.float64)
    return _mean(np.divide(found, np.maximum(relevant, 1)))


def hit_rate_at_k(hits: Hits, k: int) -> float:
    """Share of queries with at least one relevant item in the top ``k``."""
    return _mean(hits[:, :k].any(axis=1).astype(np.float64))


def ndcg_at_k(hits: Hits, relevant: Counts, k: int) -> float:
    """Normalized discounted cumulative gain with binary relevance."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits[:, :k] * discounts).sum(axis=1)
    ideal_cumulative = np.concatenate([[0.0], np.cumsum(discounts)])
    idcg = ideal_cumulative[np.minimum(relevant, k)]
    return _mean(np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0))


def map_at_k(hits: Hits, relevant: Counts, k: int) -> float:
    """Mean average precision: precision at each hit, summed, over min(relevant, k)."""
    top = hits[:, :k]
    precision = np.cumsum(top, axis=1) / np.arange(1, k + 1)
    denominator = np.minimum(relevant, k)
    total = (precision * top).sum(axis=1)
    return _mean(np.divide(total, denominator, out=np.zeros_like(total), where=denominator > 0))


def mrr_at_k(hits: Hits, k: int) -> float:
    """Mean reciprocal rank of the first relevant item in the top ``k`` (0 when none)."""
    top = hits[:, :k]
    first = top.argmax(axis=1)
    return _mean(np.where(top.any(axis=1), 1.0 / (first + 1), 0.0))


def catalog_coverage(recommended: Sequence[Sequence[str]], catalog_size: int, k: int) -> float:
    """Share of the catalog that appears in at least one top-``k`` list."""
    shown = {item for items in recommended for item in items[:k]}
    return len(shown) / catalog_size if catalog_size else 0.0


def novelty(recommended: Sequence[Sequence[str]], user_share: dict[str, float], k: int) -> float:
    """Mean self-information -log2(p) of recommended items, p = share of training users who had the item.

    Items absent from ``user_share`` count as the rarest seen item.
    """
    floor = min(user_share.values(), default=1.0)
    shares = np.array([user_share.get(item, floor) for items in recommended for item in items[:k]])
    return _mean(-np.log2(shares)) if len(shares) else 0.0
