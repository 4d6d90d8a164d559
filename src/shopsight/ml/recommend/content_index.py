"""Item text and categories as vectors: TF-IDF over the catalog text, category per item."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]
from numpy.typing import NDArray

from shopsight.ml.recommend.encoding import Vocabulary
from shopsight.ml.recommend.interactions import Floats, ItemCatalog

Indices = NDArray[np.intp]


def aligned_texts(items: Vocabulary, catalog: ItemCatalog) -> np.ndarray:
    """The catalog text of every vocabulary item (empty for items not in the catalog)."""
    return _aligned(items, catalog, catalog.texts)


def category_codes(items: Vocabulary, catalog: ItemCatalog) -> Indices:
    """A category number per vocabulary item (-1 for items without category)."""
    categories = _aligned(items, catalog, catalog.categories).astype(str)
    _, category_index = np.unique(categories, return_inverse=True)
    return np.where(categories == "", -1, category_index).astype(np.intp)


def category_affinity(categories: Indices, items: Indices, weights: Floats) -> Floats:
    """Share of the context's weight in each item's category (0 for items without category)."""
    context = categories[items]
    known = context >= 0
    if not known.any():
        return np.zeros(len(categories))
    shares = np.bincount(context[known], weights=weights[known], minlength=int(categories.max()) + 1)
    shares = shares / shares.sum()
    return np.where(categories >= 0, shares[categories.clip(0)], 0.0)


def _aligned(items: Vocabulary, catalog: ItemCatalog, column: np.ndarray) -> np.ndarray:
    """A catalog column re-ordered to the vocabulary (empty text for items not in the catalog)."""
    out = np.full(len(items), "", dtype=object)
    found = items.find_many(catalog.items)
    if len(column):
        out[found[found >= 0]] = column[found >= 0]
    return out


def _tfidf(texts: np.ndarray) -> sp.csr_matrix:
    """L2-normalized TF-IDF rows (a zero matrix when there is no usable text)."""
    # Imported here: scikit-learn costs seconds of start-up to every CLI command and API worker.
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1, dtype=np.float32)
    try:
        return sp.csr_matrix(vectorizer.fit_transform(texts.tolist()))
    except ValueError:  # empty vocabulary: no item has a word
        return sp.csr_matrix((len(texts), 1), dtype=np.float32)


@dataclass(frozen=True)
class ContentIndex:
    """Text vectors and categories of every vocabulary item."""

    vectors: sp.csr_matrix
    categories: Indices

    @classmethod
    def build(cls, items: Vocabulary, catalog: ItemCatalog) -> ContentIndex:
        """TF-IDF of the catalog texts, aligned to ``items``."""
        return cls(vectors=_tfidf(aligned_texts(items, catalog)), categories=category_codes(items, catalog))

    def has_text(self, item: int) -> bool:
        """Whether ``item`` has at least one term."""
        return bool(self.vectors.indptr[item + 1] > self.vectors.indptr[item])

    def similar(self, item: int) -> Floats:
        """Cosine similarity of every item to ``item``."""
        return np.asarray(self.vectors @ self.vectors[item].T.toarray(), dtype=np.float64).ravel()

    def profile_scores(self, items: Indices, weights: Floats) -> Floats:
        """Cosine similarity of every item to the weighted mean vector of ``items``."""
        profile = sp.csr_matrix(weights.reshape(1, -1)) @ self.vectors[items]
        norm = float(np.sqrt(profile.multiply(profile).sum()))
        if norm == 0.0:
            return np.zeros(self.vectors.shape[0])
        return np.asarray(self.vectors @ (profile.T.toarray() / norm), dtype=np.float64).ravel()

    def category_affinity(self, items: Indices, weights: Floats) -> Floats:
        """Share of the context's weight in each item's category (0 for items without category)."""
        return category_affinity(self.categories, items, weights)
