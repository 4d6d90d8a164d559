"""Encoding: ``factorize`` sorts ids as numpy does, whatever their characters."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from shopsight.ml.recommend.encoding import factorize

# ASCII digits and letters, Latin-1 accents, then characters beyond one byte (the slow, general path).
ALPHABETS = ["0123456789AB-|", "abcé ÿ\x80", "abcдж中😀"]


@given(st.sampled_from(ALPHABETS).flatmap(lambda a: st.lists(st.text(alphabet=a, max_size=6), max_size=40)))
def test_factorize_is_numpy_unique(values: list[str]) -> None:
    ids = np.array(values, dtype=np.str_)
    uniques, inverse = factorize(ids)
    expected, expected_inverse = np.unique(ids, return_inverse=True)
    assert uniques.tolist() == expected.tolist()
    assert inverse.tolist() == expected_inverse.reshape(-1).tolist()
    assert inverse.dtype == np.intp


def test_factorize_keeps_the_text_width() -> None:
    uniques, inverse = factorize(np.array(["b2", "a10", "b2", "a1"], dtype=np.str_))
    assert uniques.tolist() == ["a1", "a10", "b2"] and inverse.tolist() == [2, 1, 2, 0]
