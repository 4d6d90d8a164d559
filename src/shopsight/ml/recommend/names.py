"""Names of the recommenders, shipped datasets and ALS engines, with no heavy import: the CLI's options
and help text need them before (or without) numpy, pyarrow and the model libraries."""

from __future__ import annotations

from enum import StrEnum

MODEL_NAMES = (
    "hybrid", "als", "bpr", "item-knn", "session-knn", "fbt", "content", "popularity", "trending",
    "content-embeddings",
)  # fmt: skip
DATASET_NAMES = ("online-retail", "yoochoose-100k", "demo")
RECOMMENDER = "recommender"  # the registry name of the served recommendation model
DEFAULT_SEED = 42


class ALSEngine(StrEnum):
    """Where ALS learns its factors: ``implicit`` in this process, or ``spark`` (pyspark.ml, local mode)."""

    implicit = "implicit"
    spark = "spark"
