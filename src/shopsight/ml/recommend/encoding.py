"""Interactions encoded as integer indices: vocabularies, the user x item matrix, per-user histories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import scipy.sparse as sp  # type: ignore[import-untyped]
from numpy.typing import NDArray

from shopsight.ml.recommend.interactions import Floats, Ids, Interactions, ItemCatalog

Indices = NDArray[np.intp]
Matrix = Any  # scipy.sparse.csr_matrix (scipy ships no type information)


@dataclass(frozen=True)
class Vocabulary:
    """Sorted unique ids; an id's index is its position, -1 when unknown."""

    ids: Ids

    @classmethod
    def of(cls, *columns: Ids) -> Vocabulary:
        """The vocabulary of every id in ``columns``."""
        return cls(np.unique(np.concatenate(columns)) if columns else np.array([], dtype=np.str_))

    def __len__(self) -> int:
        return len(self.ids)

    def find_many(self, values: Ids) -> Indices:
        """Index of each value (-1 when unknown)."""
        if not len(self.ids) or not len(values):
            return np.full(len(values), -1, dtype=np.intp)
        position = np.searchsorted(self.ids, values).clip(0, len(self.ids) - 1)
        return np.where(self.ids[position] == values, position, -1).astype(np.intp)

    def find(self, value: str) -> int:
        """Index of one value (-1 when unknown)."""
        return int(self.find_many(np.array([value], dtype=np.str_))[0])


@dataclass(frozen=True)
class Encoded:
    """Training interactions by index, sorted by user then time.

    The item vocabulary holds every trained item plus every catalog item (a new item can still be
    recommended by content); ``matrix`` is users x items with summed weights, ``item_weight`` its column
    sums, ``user_segment`` each user's latest segment, ``segment_index`` each row's segment among the sorted
    ``segment_names``.
    """

    users: Vocabulary
    items: Vocabulary
    user_index: Indices
    item_index: Indices
    times: Floats
    weights: Floats
    sessions: Indices
    matrix: Matrix
    history_start: Indices
    item_weight: Floats
    last_time: float
    user_segment: Ids | None = None
    segment_names: Ids | None = None
    segment_index: Indices | None = None

    def history(self, user: int) -> tuple[Indices, Floats]:
        """Item indices and times of one user's interactions, oldest first."""
        start, end = self.history_start[user], self.history_start[user + 1]
        return self.item_index[start:end], self.times[start:end]

    def has_interactions(self, item: int) -> bool:
        """Whether ``item`` is known and occurs in training."""
        return item >= 0 and bool(self.item_weight[item] > 0)

    def binary(self) -> Matrix:
        """The user x item matrix with 1 where the user touched the item."""
        ones = self.matrix.copy()
        ones.data[:] = 1.0
        return ones

    def sessions_matrix(self) -> Matrix:
        """Sessions x items with 1 where the session touched the item."""
        n_sessions = int(self.sessions.max()) + 1 if len(self.sessions) else 0
        ones = np.ones(len(self.sessions))
        shape = (n_sessions, len(self.items))
        matrix = sp.csr_matrix((ones, (self.sessions, self.item_index)), shape=shape)
        matrix.data[:] = 1.0
        return matrix


def factorize(values: Ids) -> tuple[Ids, Indices]:
    """The sorted unique values and each value's position among them (``np.unique(return_inverse=True)``).

    Sorting every id as text is what makes encoding slow. Ids whose characters all fit in one byte (ASCII,
    Latin-1, nearly every shop id) are hashed instead, eight bytes at a time as integers, and only the
    distinct ids are sorted (as byte strings, which keeps the same order).
    """
    width = values.dtype.itemsize // 4
    if len(values) and width:
        codes = np.ascontiguousarray(values).view(np.uint32).reshape(len(values), width)
        if codes.max() <= 0xFF:
            return _hash_then_sort(values, codes.astype(np.uint8))
    uniques, inverse = np.unique(values, return_inverse=True)
    return uniques, inverse.reshape(-1).astype(np.intp)


def _hash_then_sort(values: Ids, text: NDArray[np.uint8]) -> tuple[Ids, Indices]:
    """``factorize`` of one-byte-per-character ids given as a (rows, width) byte matrix."""
    rows, width = text.shape
    padded = np.zeros((rows, -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = text
    found = np.zeros(rows, dtype=np.int64)
    for chunk in padded.view(np.uint64).T:  # pandas hashes integers in linear time
        part, distinct = pd.factorize(chunk)
        found = pd.factorize(found * len(distinct) + part)[0]
    count = int(found.max()) + 1
    first = np.empty(count, dtype=np.intp)
    first[found[::-1]] = np.arange(rows, dtype=np.intp)[::-1]  # each distinct id's first row
    order = np.argsort(np.ascontiguousarray(text[first]).view(f"S{width}").ravel(), kind="stable")
    rank = np.empty(count, dtype=np.intp)
    rank[order] = np.arange(count, dtype=np.intp)
    return values[first[order]], rank[found]


def encode(train: Interactions, catalog: ItemCatalog | None = None) -> Encoded:
    """Index ``train`` (and the catalog's items) for the models.

    Each id column is sorted once, its vocabulary and indices together: sorting text dominates encoding.
    """
    users, user_index = factorize(train.users)
    catalog_items = [catalog.items] if catalog is not None else []
    items, item_index = factorize(np.concatenate([train.items, *catalog_items]))
    order = np.lexsort((train.times, user_index))
    user_index, item_index = user_index[order], item_index[: len(train)][order]
    weights = train.weights[order]
    _, sessions = factorize(train.session_keys()[order])
    history_start = np.searchsorted(user_index, np.arange(len(users) + 1)).astype(np.intp)
    shape = (len(users), len(items))
    matrix = sp.csr_matrix((weights, (user_index, item_index)), shape=shape)
    matrix.sum_duplicates()
    segment_names, segment_index = factorize(train.segments) if train.segments is not None else (None, None)
    rows_segment = None if segment_index is None else segment_index[order]
    return Encoded(
        users=Vocabulary(users),
        items=Vocabulary(items),
        user_index=user_index,
        item_index=item_index,
        times=train.times[order],
        weights=weights,
        sessions=sessions,
        matrix=matrix,
        history_start=history_start,
        item_weight=np.bincount(item_index, weights=weights, minlength=len(items)).astype(np.float64),
        last_time=float(train.times.max()) if len(train) else 0.0,
        **_row_segments(segment_names, rows_segment, history_start),
    )


def _row_segments(names: Ids | None, rows: Indices | None, history_start: Indices) -> dict[str, Any]:
    """Each user's latest segment and each (sorted) row's segment index, when the data has segments."""
    if names is None or rows is None:
        return {}
    return {"user_segment": names[rows[history_start[1:] - 1]], "segment_names": names, "segment_index": rows}
