"""The feedback loop: Segment events saying which recommendations a shopper saw and clicked.

A storefront that shows an answer of ``/api/v1/recs`` on a surface (``home``, ``product_page``, ``cart``...)
tracks ``Product List Viewed`` with the products it showed, and ``Product Clicked`` when the shopper clicks
one of them. Both carry the recommendation context (model, version, the answer's request id, surface), so
the warehouse mart ``mart_recs_ctr`` counts impressions and clicks per model, version and surface.
These are plain Segment V2 e-commerce events: the collector accepts them like any other.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

LIST_VIEWED = "Product List Viewed"
PRODUCT_CLICKED = "Product Clicked"
LIST_PREFIX = "recs:"
# Where a storefront shows recommendations; any lower-case slug is accepted, these are the usual ones.
SURFACES = ("home", "product_page", "cart")

Surface = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ServedItem(_Frozen):
    """One item of a recommendations answer (its score and source are not needed for feedback)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    item_id: str


class ServedAnswer(_Frozen):
    """An answer of ``/api/v1/recs`` as the storefront received it (parse the response JSON with this)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    model: str
    version: int
    request_id: str
    items: list[ServedItem]


class RecommendationContext(_Frozen):
    """Which model and version answered which request, shown on which surface."""

    model: str
    version: int
    request_id: str
    surface: Surface


class ListedProduct(_Frozen):
    """A product shown in the list, at its 1-based position."""

    product_id: str
    position: int = Field(ge=1)


class RecommendationListViewed(_Frozen):
    """Properties of ``Product List Viewed`` for a list of recommendations."""

    list_id: str
    products: list[ListedProduct]
    recommendation: RecommendationContext


class RecommendationClicked(_Frozen):
    """Properties of ``Product Clicked`` for a click on a recommended product."""

    product_id: str
    position: int = Field(ge=1)
    list_id: str
    recommendation: RecommendationContext


def list_id_of(surface: str) -> str:
    """The Segment ``list_id`` of a surface's recommendations: ``recs:<surface>``."""
    return f"{LIST_PREFIX}{surface}"


def context_of(answer: ServedAnswer, *, surface: str) -> RecommendationContext:
    """The recommendation context both events carry."""
    return RecommendationContext(
        model=answer.model, version=answer.version, request_id=answer.request_id, surface=surface
    )


def list_viewed(answer: ServedAnswer, *, surface: str) -> RecommendationListViewed:
    """``Product List Viewed``: every item of the answer, in its order, was shown on ``surface``."""
    products = [ListedProduct(product_id=item.item_id, position=n) for n, item in enumerate(answer.items, 1)]
    return RecommendationListViewed(
        list_id=list_id_of(surface), products=products, recommendation=context_of(answer, surface=surface)
    )


def product_clicked(answer: ServedAnswer, *, surface: str, item_id: str) -> RecommendationClicked:
    """``Product Clicked``: the shopper clicked ``item_id`` of the answer (ValueError when not in it)."""
    shown = [item.item_id for item in answer.items]
    if item_id not in shown:
        raise ValueError(f"{item_id!r} is not in the answer of request {answer.request_id}")
    return RecommendationClicked(
        product_id=item_id,
        position=shown.index(item_id) + 1,
        list_id=list_id_of(surface),
        recommendation=context_of(answer, surface=surface),
    )


def track_call(
    event: str,
    properties: RecommendationListViewed | RecommendationClicked,
    *,
    message_id: str,
    timestamp: str,
    anonymous_id: str,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A Segment track call carrying ``properties``, ready for the collector (``/v1/track`` or a batch)."""
    call: dict[str, Any] = {
        "type": "track",
        "event": event,
        "messageId": message_id,
        "timestamp": timestamp,
        "anonymousId": anonymous_id,
        "properties": properties.model_dump(mode="json"),
    }
    if user_id is not None:
        call["userId"] = user_id
    return call
