import numpy as np
import pytest

from shopsight.ml.recommend.metrics import (
    catalog_coverage,
    hit_matrix,
    hit_rate_at_k,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    recall_at_k,
)

# Query 1: relevant {a, c, x}; ranked a b c -> hits at ranks 1 and 3.
# Query 2: relevant {z}; ranked a b c -> no hit.  Query 3: relevant {b}; ranked a b -> hit at rank 2.
RANKED = [["a", "b", "c"], ["a", "b", "c"], ["a", "b"]]
TRUTHS = [frozenset("acx"), frozenset("z"), frozenset("b")]
RELEVANT = np.array([3, 1, 1])


@pytest.fixture
def hits() -> np.ndarray:
    return hit_matrix(RANKED, TRUTHS, 3)


def test_hit_matrix_pads_short_lists(hits: np.ndarray) -> None:
    assert hits.tolist() == [[True, False, True], [False, False, False], [False, True, False]]


def test_recall(hits: np.ndarray) -> None:
    assert recall_at_k(hits, RELEVANT, 3) == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert recall_at_k(hits, RELEVANT, 1) == pytest.approx((1 / 3) / 3)


def test_hit_rate(hits: np.ndarray) -> None:
    assert hit_rate_at_k(hits, 3) == pytest.approx(2 / 3)
    assert hit_rate_at_k(hits, 1) == pytest.approx(1 / 3)


def test_ndcg(hits: np.ndarray) -> None:
    first = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))
    third = (1 / np.log2(3)) / 1
    assert ndcg_at_k(hits, RELEVANT, 3) == pytest.approx((first + 0 + third) / 3)


def test_map(hits: np.ndarray) -> None:
    first = (1 / 1 + 2 / 3) / 3
    third = (1 / 2) / 1
    assert map_at_k(hits, RELEVANT, 3) == pytest.approx((first + 0 + third) / 3)


def test_mrr(hits: np.ndarray) -> None:
    assert mrr_at_k(hits, 3) == pytest.approx((1 + 0 + 1 / 2) / 3)
    assert mrr_at_k(hits, 1) == pytest.approx(1 / 3)


def test_coverage_and_novelty() -> None:
    assert catalog_coverage(RANKED, 6, 3) == pytest.approx(3 / 6)
    shares = {"a": 0.5, "b": 0.25, "c": 0.125}
    expected = np.mean([1, 2, 3, 1, 2, 3, 1, 2])
    assert novelty(RANKED, shares, 3) == pytest.approx(expected)


def test_empty_batch_scores_zero() -> None:
    empty = hit_matrix([], [], 5)
    assert ndcg_at_k(empty, np.array([], dtype=np.int64), 5) == 0.0
