"""Segment call models: required fields, reasons with paths, unknown data preserved, e-commerce names."""

from __future__ import annotations

import pytest

from shopsight.errors import ValidationFailed
from shopsight.events.ecommerce import ECOMMERCE_EVENTS, is_ecommerce_event
from shopsight.events.model import TrackEvent, event_name, parse_event

SPEC_NAMES = {
    "Products Searched", "Product List Viewed", "Product List Filtered", "Promotion Viewed",
    "Promotion Clicked", "Product Clicked", "Product Viewed", "Product Added", "Product Removed",
    "Cart Viewed", "Checkout Started", "Checkout Step Viewed", "Checkout Step Completed",
    "Payment Info Entered", "Order Updated", "Order Completed", "Order Refunded", "Order Cancelled",
    "Coupon Entered", "Coupon Applied", "Coupon Denied", "Coupon Removed", "Product Added to Wishlist",
    "Product Removed from Wishlist", "Wishlist Product Added to Cart", "Product Shared", "Cart Shared",
    "Product Reviewed",
}  # fmt: skip


def test_every_v2_ecommerce_event_is_known_by_its_exact_name() -> None:
    assert set(ECOMMERCE_EVENTS) == SPEC_NAMES
    assert not is_ecommerce_event("order completed")


def test_unknown_events_and_keys_are_kept() -> None:
    event = parse_event(
        {"type": "track", "userId": 7, "event": "Gift Card Redeemed", "properties": {"x": 1}, "extra": "kept"}
    )
    assert isinstance(event, TrackEvent) and event.userId == "7"
    dumped = event.model_dump(mode="json", by_alias=True)
    assert dumped["extra"] == "kept" and dumped["properties"] == {"x": 1}
    assert event_name(event) == "Gift Card Redeemed"


def test_reasons_carry_field_paths() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_event(
            {
                "userId": "u",
                "event": "Order Completed",
                "properties": {"revenue": "abc", "products": [{"price": "x"}]},
            },
            "track",
        )
    joined = " | ".join(caught.value.reasons)
    assert "properties.revenue" in joined and "properties.products.0.price" in joined


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"type": "track", "event": "Cart Viewed"}, "userId or anonymousId"),
        ({"type": "track", "userId": "u", "event": ""}, "event"),
        ({"type": "alias", "userId": "u"}, "previousId"),
        ({"type": "group", "userId": "u"}, "groupId"),
        ({"type": "nope", "userId": "u"}, "type"),
        ({"type": "track", "userId": "u", "event": "X", "timestamp": "yesterday"}, "timestamp"),
    ],
)
def test_invalid_calls_are_rejected(payload: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationFailed, match=expected):
        parse_event(payload)


def test_numeric_strings_are_coerced_and_naive_times_are_utc() -> None:
    event = parse_event(
        {"type": "track", "anonymousId": "a", "event": "Product Added", "properties": {"price": "9.99"},
         "timestamp": "2026-01-01T10:00:00"}
    )  # fmt: skip
    assert event.timestamp is not None and event.timestamp.utcoffset() is not None
