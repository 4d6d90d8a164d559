"""Segment "Spec: V2 Ecommerce Events": exact names and their semantic properties.

Properties are lenient like Segment's (all optional, numeric strings coerced, unknown keys kept), but a
value that cannot be what the spec says (``"price": "abc"``) is a reason to reject the event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Money = float | None


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class ProductProperties(_Lenient):
    """A product as the spec describes it inside events and ``products[]`` arrays."""

    product_id: str | None = None
    sku: str | None = None
    category: str | None = None
    name: str | None = None
    brand: str | None = None
    variant: str | None = None
    price: Money = None
    quantity: float | None = Field(default=None, ge=0)
    coupon: str | None = None
    position: int | str | None = None  # a number for products, a slot name for promotions
    url: str | None = None
    image_url: str | None = None


class EcommerceProperties(ProductProperties):
    """Union of the spec's list, promotion, checkout, order, coupon, wishlist, sharing and review fields."""

    query: str | None = None
    list_id: str | None = None
    products: list[ProductProperties] | None = None
    filters: list[dict[str, Any]] | None = None
    sorts: list[dict[str, Any]] | None = None
    promotion_id: str | None = None
    creative: str | None = None
    cart_id: str | None = None
    checkout_id: str | None = None
    step: int | None = None
    shipping_method: str | None = None
    payment_method: str | None = None
    order_id: str | None = None
    affiliation: str | None = None
    value: Money = None
    revenue: Money = None
    total: Money = None
    subtotal: Money = None
    shipping: Money = None
    tax: Money = None
    discount: Money = None
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    coupon_id: str | None = None
    coupon_name: str | None = None
    reason: str | None = None
    wishlist_id: str | None = None
    wishlist_name: str | None = None
    share_via: str | None = None
    share_message: str | None = None
    recipient: str | None = None
    review_id: str | None = None
    review_body: str | None = None
    rating: float | None = Field(default=None, ge=0, le=5)


class RefundProperties(EcommerceProperties):
    """Refunds and removals may carry negative quantities (returned units)."""

    quantity: float | None = None


ECOMMERCE_EVENT_NAMES = (
    "Products Searched", "Product List Viewed", "Product List Filtered", "Promotion Viewed",
    "Promotion Clicked", "Product Clicked", "Product Viewed", "Product Added", "Product Removed",
    "Cart Viewed", "Checkout Started", "Checkout Step Viewed", "Checkout Step Completed",
    "Payment Info Entered", "Order Updated", "Order Completed", "Order Refunded", "Order Cancelled",
    "Coupon Entered", "Coupon Applied", "Coupon Denied", "Coupon Removed", "Product Added to Wishlist",
    "Product Removed from Wishlist", "Wishlist Product Added to Cart", "Product Shared", "Cart Shared",
    "Product Reviewed",
)  # fmt: skip

ECOMMERCE_EVENTS: dict[str, type[BaseModel]] = {
    name: RefundProperties if name in ("Order Refunded", "Product Removed") else EcommerceProperties
    for name in ECOMMERCE_EVENT_NAMES
}


def is_ecommerce_event(name: str) -> bool:
    """Whether ``name`` is one of the spec's e-commerce events (exact, case-sensitive)."""
    return name in ECOMMERCE_EVENTS


def validate_ecommerce_properties(name: str, properties: dict[str, Any]) -> list[str]:
    """Reasons the properties break the spec (empty when valid or the event is custom)."""
    model = ECOMMERCE_EVENTS.get(name)
    if model is None:
        return []
    try:
        model.model_validate(properties)
    except ValidationError as exc:
        return [_reason("properties", error) for error in exc.errors()]
    return []


def _reason(prefix: str, error: Any) -> str:
    path = ".".join(str(part) for part in (prefix, *error["loc"]))
    return f"{path}: {error['msg']}"
