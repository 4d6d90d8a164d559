"""Training for serving: fit a model, measure it offline, precompute its candidates, register the version.

The offline metrics come from a temporal hold-out (the latest 20% of interactions, no leakage); the model
that is served is then refitted on all interactions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp  # type: ignore[import-untyped]

from shopsight.errors import ShopSightError
from shopsight.ml.recommend.base import Ranked, Recommender
from shopsight.ml.recommend.coldstart import normalized, segment_popularity
from shopsight.ml.recommend.datasets import EvaluationData
from shopsight.ml.recommend.encoding import Encoded, Vocabulary, encode
from shopsight.ml.recommend.evaluate import DEFAULT_SEED, Progress, evaluate, source_factories
from shopsight.ml.recommend.hybrid import HybridRecommender
from shopsight.ml.recommend.interactions import (
    EVENT_WEIGHTS,
    Floats,
    Ids,
    Interactions,
    ItemCatalog,
    as_ids,
    from_warehouse_tables,
    unix_seconds,
)
from shopsight.ml.recommend.models.content import ContentRecommender
from shopsight.ml.recommend.models.content_embeddings import ContentEmbeddingsRecommender
from shopsight.ml.recommend.models.factorization import ALSRecommender, BPRRecommender
from shopsight.ml.recommend.models.neighbors import (
    BoughtTogetherRecommender,
    ItemKNNRecommender,
    SessionCovisitationRecommender,
    covisitation,
    keep_top,
    row_normalized,
)
from shopsight.ml.recommend.models.popularity import PopularityRecommender, TrendingRecommender
from shopsight.ml.recommend.models.spark_als import SparkALSRecommender
from shopsight.ml.recommend.names import MODEL_NAMES as MODEL_NAMES
from shopsight.ml.recommend.names import ALSEngine as ALSEngine
from shopsight.ml.recommend.queries import build_queries
from shopsight.ml.recommend.registry import ModelRegistry, ModelVersion
from shopsight.ml.recommend.rules import margin_boosts, new_arrival_boosts
from shopsight.ml.recommend.serving import RECOMMENDER, ServingBundle
from shopsight.ml.recommend.split import split_by_share

# Candidates precomputed per user, per item, per session item and per cart item.
DEPTH = 100
HOLDOUT_SHARE = 0.2
Factory = Callable[[], Recommender]


class TrainingError(ShopSightError):
    """A model name that does not exist, or data too small to train on."""


def check_engine(names: list[str], engine: ALSEngine) -> None:
    """Raise :class:`TrainingError` when ``engine`` would train none of the models ``names`` (Spark: als)."""
    if engine is ALSEngine.spark and "als" not in [name.replace("_", "-") for name in names]:
        raise TrainingError(f"the spark engine trains als only, not {', '.join(names) or 'every model'}")


def model_factory(
    name: str, data: EvaluationData, seed: int = DEFAULT_SEED, engine: ALSEngine = ALSEngine.implicit
) -> Factory:
    """The factory of the model called ``name`` (``item_knn`` and ``item-knn`` both work).

    ``engine`` is where the ``als`` model trains; every other model (the hybrid's sources too) runs here.
    """
    als: type[ALSRecommender] = SparkALSRecommender if engine is ALSEngine.spark else ALSRecommender
    factories: dict[str, Factory] = {
        "popularity": PopularityRecommender,
        "trending": TrendingRecommender,
        "item-knn": ItemKNNRecommender,
        "session-knn": SessionCovisitationRecommender,
        "fbt": BoughtTogetherRecommender,
        "als": lambda: als(seed=seed),
        "bpr": lambda: BPRRecommender(seed=seed),
        "content": ContentRecommender,
        "content-embeddings": ContentEmbeddingsRecommender,
        "hybrid": lambda: HybridRecommender(source_factories(data, seed), task=data.task, seed=seed),
    }
    key = name.replace("_", "-")
    if key not in factories:
        raise TrainingError(f"unknown model {name!r}; choose among {', '.join(MODEL_NAMES)}")
    return factories[key]


@dataclass(frozen=True)
class TrainingData:
    """What a model is trained on: interactions, the catalog, and the items out of stock right now."""

    interactions: Interactions
    catalog: ItemCatalog | None = None
    out_of_stock: frozenset[str] = frozenset()


# Warehouse tables training reads (fact_event and the inventory are optional).
WAREHOUSE_TABLES = ("fact_order_item", "fact_order", "fact_event", "dim_product", "fact_inventory_daily")


def from_warehouse(tables: Mapping[str, pa.Table]) -> TrainingData:
    """Interactions (purchases, cart adds, views), the product catalog and today's out-of-stock items."""
    catalog = product_catalog(tables["dim_product"]) if "dim_product" in tables else None
    stock = tables.get("fact_inventory_daily")
    return TrainingData(from_warehouse_tables(tables), catalog, out_of_stock(stock) if stock else frozenset())


def product_catalog(products: pa.Table) -> ItemCatalog:
    """Title, brand and category as text; category, listing time and margin per product."""
    text = pc.binary_join_element_wise(
        *(pc.fill_null(products[c], "") for c in ("title", "brand", "category")), " "
    )
    price, cost = (
        pc.cast(products[c], pa.float64()).to_numpy(zero_copy_only=False) for c in ("price", "cost")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        margins = np.where(price > 0, (price - cost) / price, np.nan)
    return ItemCatalog(
        items=as_ids(products["product_id"]), texts=as_ids(text),
        categories=as_ids(pc.fill_null(products["category"], "")),
        created_at=unix_seconds(products["created_at"]), margins=np.asarray(margins, dtype=np.float64),
    )  # fmt: skip


def out_of_stock(stock: pa.Table) -> frozenset[str]:
    """Products whose available quantity, summed over locations on their latest stock day, is 0 or less."""
    if not len(stock):
        return frozenset()
    latest = stock.group_by("product_id").aggregate([("stock_date", "max")])
    on_latest = stock.join(latest, ["product_id", "stock_date"], ["product_id", "stock_date_max"], "inner")
    totals = on_latest.group_by("product_id").aggregate([("available", "sum")])
    empty = totals.filter(pc.less_equal(totals["available_sum"], 0))
    return frozenset(as_ids(empty["product_id"]).tolist())


def offline_metrics(
    name: str, data: TrainingData, *, seed: int, max_queries: int, progress: Progress | None,
    engine: ALSEngine = ALSEngine.implicit,
) -> dict[str, float]:  # fmt: skip
    """The model's metrics on the latest 20% of interactions (fitted on the rest); {} when too little data."""
    split = split_by_share(data.interactions, HOLDOUT_SHARE)
    if not len(split.train) or not build_queries("user", split.train, split.test).queries:
        return {}
    holdout = EvaluationData("holdout", split, "user", data.catalog)
    evaluation = evaluate(
        holdout, models=[model_factory(name, holdout, seed, engine)], max_queries=max_queries, seed=seed,
        progress=progress,
    )  # fmt: skip
    return {metric: round(value, 5) for metric, value in evaluation.results[0].metrics.items()}


def train(
    name: str,
    data: TrainingData,
    *,
    registry: ModelRegistry,
    activate: bool = True,
    seed: int = DEFAULT_SEED,
    max_queries: int = 2000,
    progress: Progress | None = None,
    engine: ALSEngine = ALSEngine.implicit,
) -> ModelVersion:
    """Measure ``name`` offline, fit it on everything, precompute its candidates and register the version."""
    if not len(data.interactions):
        raise TrainingError("there are no interactions to train on")
    metrics = offline_metrics(
        name, data, seed=seed, max_queries=max_queries, progress=progress, engine=engine
    )
    everything = EvaluationData("all", split_by_share(data.interactions, HOLDOUT_SHARE), "user", data.catalog)
    model = _fit(model_factory(name, everything, seed, engine), data, progress)
    bundle = build_bundle(model, data, progress=progress)
    version = registry.register(
        RECOMMENDER, params=_params(model.name, data, seed), metrics=metrics, write_artifact=bundle.save
    )
    return registry.activate(RECOMMENDER, version.version) if activate else version


def _fit(factory: Factory, data: TrainingData, progress: Progress | None) -> Recommender:
    model = factory()
    task = progress.add_task(f"fit {model.name} on all interactions", total=1) if progress else None
    model.fit(data.interactions, data.catalog)
    if progress is not None:
        progress.advance(task, 1)
    return model


def _params(model: str, data: TrainingData, seed: int) -> dict[str, Any]:
    last = datetime.fromtimestamp(float(data.interactions.times.max()), UTC)
    return {
        "model": model, "seed": seed, "depth": DEPTH, "interactions": len(data.interactions),
        "users": len(np.unique(data.interactions.users)),
        "items": len(np.unique(data.interactions.items)), "trained_until": last.isoformat(),
        "out_of_stock": len(data.out_of_stock),
    }  # fmt: skip


def build_bundle(
    model: Recommender, data: TrainingData, *, progress: Progress | None = None
) -> ServingBundle:
    """Precompute ``model``'s candidates for every user and item, plus the real-time re-ranking data."""
    encoded = encode(data.interactions, data.catalog)
    items = encoded.items
    user_rows, user_scores = _lists(model.recommend_for_user, encoded.users.ids, items, "users", progress)
    similar_rows, similar_scores = _lists(model.similar_items, items.ids, items, "items", progress)
    session = keep_top(_row_max_normalized(row_normalized(covisitation(encoded, 5, 0.5))), DEPTH)
    bought = _bought(encoded)
    return ServingBundle(
        model=np.array(model.name), items=items.ids, popularity=normalized(encoded.item_weight),
        users=encoded.users.ids, user_candidates=user_rows, user_scores=user_scores,
        bought_start=bought.indptr.astype(np.int32), bought_items=bought.indices.astype(np.int32),
        similar_candidates=similar_rows, similar_scores=similar_scores,
        session_start=session.indptr.astype(np.int32), session_items=session.indices.astype(np.int32),
        session_scores=session.data.astype(np.float32),
        **_cart(encoded), **_segment_lists(encoded, data.interactions),
        **_rule_columns(items.ids, data, encoded.last_time),
    )  # fmt: skip


def _lists(
    ask: Callable[..., Ranked], keys: Ids, items: Vocabulary, what: str, progress: Progress | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each key's top ``DEPTH`` item rows and scores, padded with -1 / NaN."""
    rows = np.full((len(keys), DEPTH), -1, dtype=np.int32)
    scores = np.full((len(keys), DEPTH), np.nan, dtype=np.float32)
    task = progress.add_task(f"precompute {what}", total=len(keys)) if progress else None
    for n, key in enumerate(keys.tolist()):
        ranked = ask(key, k=DEPTH)
        found = items.find_many(ranked.items)
        kept = found >= 0
        rows[n, : kept.sum()] = found[kept]
        scores[n, : kept.sum()] = ranked.scores[kept]
        if progress is not None:
            progress.advance(task, 1)
    return rows, scores


def _row_max_normalized(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its largest entry, so every item's best neighbour scores 1."""
    top = (
        np.asarray(matrix.max(axis=1).toarray(), dtype=np.float64).ravel() if matrix.shape[0] else np.zeros(0)
    )
    inverse = np.divide(1.0, top, out=np.zeros_like(top), where=top > 0)
    return sp.csr_matrix(sp.diags(inverse) @ matrix)


def _cart(encoded: Encoded) -> dict[str, np.ndarray]:
    """Bought-together rows (basket co-occurrence confidence with shrinkage, as the ``fbt`` model)."""
    baskets = encoded.sessions_matrix()
    together = sp.csr_matrix(baskets.T @ baskets)
    together.setdiag(0.0)
    per_item = np.asarray(baskets.sum(axis=0), dtype=np.float64).ravel()
    confidence = keep_top(sp.csr_matrix(sp.diags(1.0 / (per_item + 5.0)) @ together), DEPTH)
    return {
        "cart_start": confidence.indptr.astype(np.int32),
        "cart_items": confidence.indices.astype(np.int32),
        "cart_scores": confidence.data.astype(np.float32),
    }


def _segment_lists(encoded: Encoded, interactions: Interactions) -> dict[str, np.ndarray]:
    """Each segment's most popular items: names, rows (-1 padded) and scores."""
    by_segment = segment_popularity(encoded, interactions)
    names = np.array(sorted(by_segment), dtype=np.str_)
    rows = np.full((len(names), DEPTH), -1, dtype=np.int32)
    scores = np.full((len(names), DEPTH), np.nan, dtype=np.float32)
    for n, name in enumerate(names.tolist()):
        popularity = by_segment[name]
        best = np.argsort(-popularity, kind="stable")[:DEPTH]
        best = best[popularity[best] > 0]
        rows[n, : len(best)], scores[n, : len(best)] = best, popularity[best]
    return {"segments": names, "segment_candidates": rows, "segment_scores": scores}


def _bought(encoded: Encoded) -> sp.csr_matrix:
    """Users x items with an entry where the user purchased the item (what non-repeatables check)."""
    purchased = encoded.weights >= EVENT_WEIGHTS["purchase"]
    ones = np.ones(int(purchased.sum()))
    shape = (len(encoded.users), len(encoded.items))
    matrix = sp.csr_matrix(
        (ones, (encoded.user_index[purchased], encoded.item_index[purchased])), shape=shape
    )
    matrix.sum_duplicates()
    return matrix


def _rule_columns(items: Ids, data: TrainingData, now: float) -> dict[str, np.ndarray]:
    """Per item: category, boost (margin x new arrival) and out-of-stock flag."""
    categories = np.full(len(items), "", dtype=object)
    boosts: Floats = np.ones(len(items))
    if data.catalog is not None:
        category_of = data.catalog.category_of()
        categories = np.array([category_of.get(item, "") for item in items.tolist()], dtype=object)
        margin, fresh = margin_boosts(data.catalog), new_arrival_boosts(data.catalog, now=now)
        boosts = np.array([margin.get(i, 1.0) * fresh.get(i, 1.0) for i in items.tolist()])
    return {
        "categories": categories.astype(np.str_),
        "boosts": boosts,
        "out_of_stock": np.isin(items, np.array(sorted(data.out_of_stock), dtype=np.str_)),
    }
