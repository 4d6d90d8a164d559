"""A small, structured shop: users favour one of three categories; items have text and categories."""

from __future__ import annotations

import numpy as np
import pytest

from shopsight.ml.recommend.interactions import Interactions, ItemCatalog

CATEGORIES = ("garden", "kitchen", "toys")
WORDS = {"garden": "green plant pot soil", "kitchen": "steel pan knife cook", "toys": "plastic game fun kids"}
DAY = 86_400.0


@pytest.fixture
def shop() -> Interactions:
    """1,200 interactions of 60 users over 100 days on 30 items (10 per category), sessions of 4."""
    rng = np.random.default_rng(7)
    n = 1200
    users = rng.integers(0, 60, n)
    favourite = users % 3
    category = np.where(rng.random(n) < 0.8, favourite, rng.integers(0, 3, n))
    items = category * 10 + np.minimum(rng.geometric(0.3, n) - 1, 9)
    times = np.sort(rng.uniform(0, 100 * DAY, n))
    return Interactions(
        users=np.char.add("u", users.astype(str)),
        items=np.char.add("i", items.astype(str)),
        times=times,
        weights=np.ones(n),
        sessions=np.char.add("s", (np.arange(n) // 4).astype(str)),
        segments=np.array(["GB", "FR"])[users % 2],
    )


@pytest.fixture
def catalog() -> ItemCatalog:
    """Text and category of the 30 items, plus one new item nobody has touched yet."""
    ids = [f"i{i}" for i in range(30)] + ["new-pan"]
    categories = [CATEGORIES[i // 10] for i in range(30)] + ["kitchen"]
    texts = [f"item {i} {WORDS[c]}" for i, c in zip(range(30), categories, strict=False)] + ["steel pan cook"]
    return ItemCatalog(
        items=np.array(ids, dtype=np.str_),
        texts=np.array(texts, dtype=np.str_),
        categories=np.array(categories, dtype=np.str_),
        created_at=np.full(31, 0.0),
        margins=np.linspace(0.1, 0.6, 31),
    )
