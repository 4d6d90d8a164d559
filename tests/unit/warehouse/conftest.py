"""A tiny store whose KPIs can be worked out by hand, loaded through the real importer and lake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from shopsight.config import Settings
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.platform import Platform


def track(event: str, at: str, anon: str, user: str | None = None, **properties: Any) -> dict[str, Any]:
    """A Segment track call as a browser would send it."""
    call: dict[str, Any] = {"type": "track", "event": event, "timestamp": at, "anonymousId": anon,
                            "messageId": f"{anon}-{event}-{at}", "properties": properties}  # fmt: skip
    if user:
        call["userId"] = user
    return call


def page(at: str, anon: str, user: str | None = None, referrer: str = "") -> dict[str, Any]:
    """A Segment page call."""
    call = track("", at, anon, user)
    del call["event"]
    call.update(type="page", name="Home", messageId=f"{anon}-page-{at}",
                context={"page": {"path": "/", "referrer": referrer}})  # fmt: skip
    return call


EVENTS = [
    # Person A: a browser that identifies as u1. Session 1 converts; 65 idle minutes later, session 2.
    page("2024-03-04T10:00:00Z", "a1", referrer="https://www.google.com/search?q=mugs"),
    track("Product Viewed", "2024-03-04T10:05:00Z", "a1", product_id="p1", price=50),
    track("Product Added", "2024-03-04T10:10:00Z", "a1", product_id="p1", price=50, quantity=2),
    track("Checkout Started", "2024-03-04T10:20:00Z", "a1", order_id="o1", total=100),
    {
        "type": "identify",
        "userId": "u1",
        "anonymousId": "a1",
        "timestamp": "2024-03-04T10:24:00Z",
        "messageId": "a1-identify",
        "traits": {"email": "ada@example.com"},
    },
    track("Order Completed", "2024-03-04T10:25:00Z", "a1", "u1", order_id="o1", total=100, currency="USD"),
    page("2024-03-04T11:30:00Z", "a1", "u1"),
    # Person B: anonymous, adds to cart and leaves.
    track("Product Viewed", "2024-03-04T12:00:00Z", "b1", product_id="p1", price=50),
    track("Product Added", "2024-03-04T12:01:00Z", "b1", product_id="p1", price=50, quantity=1),
    # Person C: one page view the next day.
    page("2024-03-05T09:00:00Z", "c1"),
    # A partial refund of o1 two days later, sent by the back office (server-side: no anonymousId).
    {
        **track("Order Refunded", "2024-03-06T08:00:00Z", "", "u1", order_id="o1", total=40, currency="USD"),
        "anonymousId": None,
    },
]


def order(order_id: str, customer: str, at: str, currency: str, total: float, status: str) -> dict[str, Any]:
    """An order record with one line whose amount equals the total."""
    return {"order_id": order_id, "customer_id": customer, "placed_at": at, "currency": currency,
            "status": status, "total": total,
            "items": [{"product_id": "p1", "quantity": 2, "unit_price": total / 2}]}  # fmt: skip


ORDERS = [
    order("o1", "u1", "2024-03-04T10:25:00Z", "USD", 100.0, "delivered"),
    order("o2", "u2", "2024-03-05T15:00:00Z", "EUR", 200.0, "cancelled"),  # EUR 2024: 1.082 USD
    order("o3", "u1", "2024-03-11T09:00:00Z", "USD", 30.0, "refunded"),  # no refund event: by status
]
SPEND = [
    {"day": "2024-03-04", "channel": "paid_search", "campaign": "brand", "cost": 50.0, "currency": "USD"},
    {"day": "2024-03-05", "channel": "email", "campaign": "spring", "cost": 10.0, "currency": "GBP"},
]


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def load_store(platform: Platform, folder: Path) -> None:
    """Import the fixture files through the real importer and compact them into the lake."""
    folder.mkdir(parents=True, exist_ok=True)
    importer = Importer(platform, load_mapping("shopsight"))
    for name, rows in (("events", EVENTS), ("orders", ORDERS), ("marketing_spend", SPEND)):
        report = importer.import_file(_write(folder / f"{name}.ndjson", rows))
        assert report.error is None and not report.rejected, report
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)


@pytest.fixture
def hand_store(platform: Platform, settings: Settings, tmp_path: Path) -> Iterator[Platform]:
    """The platform with the hand-checkable store in its lake."""
    load_store(platform, tmp_path / "files")
    yield platform
