"""Recommendation widgets in the demo store: an A/B test of two models with different click-through rates.

A share of browsers (by a stable hash of their anonymous id, so a visitor stays in one arm on every
visit) sees recommendation lists on the home page, product pages and the cart. Each arm is a model label
of the registry (``hybrid`` v1 against ``popularity`` v1) with its own click probability, and the lists
are tracked with the feedback events of :mod:`shopsight.ml.recommend.feedback`, so the demo warehouse's
``mart_recs_ctr`` shows a realistic CTR gap. Every random choice comes from the store's seeded generator.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from shopsight.demo.behaviour import Session, view_product
from shopsight.demo.catalog import LEAVES, Product
from shopsight.demo.customers import new_uuid
from shopsight.ml.recommend.feedback import (
    LIST_VIEWED,
    PRODUCT_CLICKED,
    ServedAnswer,
    ServedItem,
    list_viewed,
    product_clicked,
)


@dataclass(frozen=True)
class Arm:
    """One arm of the experiment: the model label its lists carry and how often a shown list is clicked."""

    model: str
    version: int
    click_probability: float


ARMS = (Arm("hybrid", 1, 0.24), Arm("popularity", 1, 0.15))
EXPERIMENT_PERCENT = 40  # of browsers see recommendation widgets
LIST_LENGTH = 4
# How much more (or less) a list is clicked on each surface than on the home page.
SURFACE_CLICK_FACTOR = {"home": 1.0, "product_page": 1.25, "cart": 0.7}
# Shoppers click the first slots most.
POSITION_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
PRODUCT_PAGE_SHARE = 0.5  # of product views in the experiment that show "you may also like"


def arm_of(session: Session) -> Arm | None:
    """The visitor's arm, or None when their browser is outside the experiment."""
    bucket = zlib.crc32(session.visitor.anonymous_id.encode())
    if bucket % 100 >= EXPERIMENT_PERCENT:
        return None
    return ARMS[(bucket // 100) % len(ARMS)]


def _leaves(session: Session, arm: Arm, anchor: Product | None) -> list[int]:
    """Categories the arm draws from: the hybrid personalizes, popularity does not."""
    if arm.model != "hybrid":
        return []
    if anchor is not None:
        return [LEAVES.index(anchor.leaf)]
    customer = session.visitor.customer
    return list(customer.favourites) if customer is not None else []


def _products(session: Session, arm: Arm, anchor: Product | None) -> list[Product]:
    """Up to LIST_LENGTH distinct products, never the anchor."""
    store, rng = session.store, session.store.rng
    leaves = _leaves(session, arm, anchor)
    chosen: list[Product] = []
    for _ in range(3 * LIST_LENGTH):
        leaf = rng.choice(leaves) if leaves else store.catalog.pick_leaf(rng)
        product = store.catalog.pick_product(leaf, rng)
        if product is not anchor and all(product is not other for other in chosen):
            chosen.append(product)
        if len(chosen) == LIST_LENGTH:
            break
    return chosen


def recommend(session: Session, surface: str, *, anchor: Product | None = None) -> None:
    """Show a recommendation list on ``surface`` (for an experiment visitor) and maybe follow a click."""
    arm = arm_of(session)
    if arm is None:
        return
    rng = session.store.rng
    products = _products(session, arm, anchor)
    if not products:
        return
    answer = ServedAnswer(
        model=arm.model,
        version=arm.version,
        request_id=new_uuid(rng).replace("-", ""),
        items=[ServedItem(item_id=p.product_id) for p in products],
    )
    session.track(LIST_VIEWED, list_viewed(answer, surface=surface).model_dump(mode="json"))
    if rng.random() >= arm.click_probability * SURFACE_CLICK_FACTOR.get(surface, 1.0):
        return
    clicked = rng.choices(products, weights=POSITION_WEIGHTS[: len(products)])[0]
    click = product_clicked(answer, surface=surface, item_id=clicked.product_id)
    session.track(PRODUCT_CLICKED, click.model_dump(mode="json"))
    view_product(session, clicked)


def recommend_on_product_page(session: Session, product: Product) -> None:
    """Half of an experiment visitor's product pages show products like the one viewed."""
    if arm_of(session) is not None and session.store.rng.random() < PRODUCT_PAGE_SHARE:
        recommend(session, "product_page", anchor=product)
