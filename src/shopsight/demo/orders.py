"""Orders and what happens after checkout: stock reservation, shipping, cancellations, refunds and reviews."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shopsight.demo.behaviour import CartLine, Session, cart_products
from shopsight.demo.customers import Customer, new_uuid
from shopsight.demo.market import DAY_MS, iso_ms
from shopsight.demo.payments import Card
from shopsight.demo.store import DemoStore, Row

HOUR_MS = 3_600_000
SERVER_LIBRARY = {"name": "analytics-python", "version": "2.3.3"}
REVIEW_TEXT = {
    1: (
        "Very disappointed",
        "The {name} broke within a week and support never answered. Would not buy again.",
    ),
    2: ("Not as described", "The {name} looks cheaper than in the photos and the fit is off. Returned it."),
    3: ("It's okay", "The {name} does the job, nothing special. Delivery took a while."),
    4: ("Really nice", "Happy with the {name}: good quality for the price and it arrived quickly."),
    5: ("Love it!", "The {name} is excellent, exactly what I wanted. Already ordered another one."),
}


@dataclass
class Checkout:
    """Choices made during checkout."""

    order_id: str
    checkout_id: str
    coupon: str | None
    discount_rate: float
    shipping_method: str
    payment_method: str
    card: Card | None
    shipping_address: Row
    billing_address: Row


@dataclass
class Totals:
    """Order money in the order currency; EU/GB/AU prices include VAT, US/CA add sales tax."""

    subtotal: float
    discount: float
    shipping: float
    tax: float
    total: float
    revenue: float


def totals_for(session: Session, discount_rate: float, shipping_method: str) -> Totals:
    """Subtotal, discount, shipping, tax and total of the current cart."""
    market = session.visitor.market
    subtotal = round(sum(line.unit_price * line.quantity for line in session.cart), 2)
    discount = round(subtotal * discount_rate, 2)
    net = subtotal - discount
    shipping = 0.0 if net >= market.free_shipping_over else market.shipping_fee
    if shipping_method == "express":
        shipping = round(shipping + market.shipping_fee * 1.5, 2)
    tax_included = market.code not in ("US", "CA")
    tax = round(net - net / (1 + market.tax_rate), 2) if tax_included else round(net * market.tax_rate, 2)
    total = round(net + shipping + (0.0 if tax_included else tax), 2)
    revenue = round(net - tax if tax_included else net, 2)
    return Totals(subtotal, discount, shipping, tax, total, revenue)


def order_properties(session: Session, checkout: Checkout, totals: Totals) -> Row:
    """Segment V2 order properties (Checkout Started, Order Completed, Order Cancelled)."""
    properties: Row = {
        "order_id": checkout.order_id,
        "checkout_id": checkout.checkout_id,
        "affiliation": "ShopSight Demo Store",
        "subtotal": totals.subtotal,
        "total": totals.total,
        "revenue": totals.revenue,
        "value": round(totals.subtotal - totals.discount, 2),
        "shipping": totals.shipping,
        "tax": totals.tax,
        "discount": totals.discount,
        "currency": session.currency,
        "products": cart_products(session),
    }
    if checkout.coupon:
        properties["coupon"] = checkout.coupon
    return properties


def place_order(session: Session, checkout: Checkout, *, cancel_probability: float = 0.03) -> Row | None:
    """Reserve stock, emit Order Completed and the order row, and schedule what follows.

    Lines whose stock ran out since they were added are dropped; with nothing left there is no order.
    """
    store = session.store
    session.cart = [line for line in session.cart if _reserve(session, line)]
    if not session.cart:
        return None
    totals = totals_for(session, checkout.discount_rate, checkout.shipping_method)
    session.track("Order Completed", order_properties(session, checkout, totals))
    customer = session.visitor.customer
    assert customer is not None
    customer.order_count += 1
    customer.ordered_products = (customer.ordered_products + [ln.product.product_id for ln in session.cart])[
        -20:
    ]
    order = _order_row(session, checkout, totals, customer)
    _after_checkout(session, checkout, totals, order, cancel_probability)
    order["status"] = order["status_history"][-1]["status"]
    store.emit_row("order", order)
    return order


def _reserve(session: Session, line: CartLine) -> bool:
    return session.store.stock.reserve(line.variant.variant_id, session.location_id, line.quantity)


def _order_row(session: Session, checkout: Checkout, totals: Totals, customer: Customer) -> Row:
    store, placed = session.store, session.clock_ms
    card = checkout.card
    return {
        "order_id": checkout.order_id,
        "customer_id": customer.customer_id,
        "anonymous_id": session.visitor.anonymous_id,
        "placed_at": iso_ms(placed),
        "currency": session.currency,
        "status": "placed",
        "status_history": [
            {"status": "placed", "at": iso_ms(placed)},
            {"status": "paid", "at": iso_ms(placed + store.rng.randrange(2000, 60_000))},
        ],
        "items": [
            {
                "product_id": ln.product.product_id,
                "variant_id": ln.variant.variant_id,
                "sku": ln.variant.sku,
                "name": ln.variant.title,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "discount": round(ln.unit_price * ln.quantity * checkout.discount_rate, 2),
            }
            for ln in session.cart
        ],
        "payments": [
            {
                "payment_id": store.ids.next_payment_id(),
                "method": checkout.payment_method,
                "amount": totals.total,
                "currency": session.currency,
                "card_number": card.number if card else None,
                "cvv": card.cvv if card else None,
                "status": "captured",
            }
        ],
        "shipping_address": checkout.shipping_address,
        "billing_address": checkout.billing_address,
        "subtotal": totals.subtotal,
        "tax": totals.tax,
        "shipping": totals.shipping,
        "discount": totals.discount,
        "total": totals.total,
        "coupon": checkout.coupon,
        "channel": session.channel.name,
        "country": session.visitor.market.code,
    }


def _after_checkout(
    session: Session, checkout: Checkout, totals: Totals, order: Row, cancel_probability: float
) -> None:
    store, rng = session.store, session.store.rng
    cancel_at = session.clock_ms + rng.randrange(HOUR_MS // 2, 6 * HOUR_MS)
    if rng.random() < cancel_probability and store.in_horizon(cancel_at):
        _cancel(session, checkout, totals, order, cancel_at)
        return
    ship_at = session.clock_ms + rng.randrange(4 * HOUR_MS, 36 * HOUR_MS)
    pick_day = max(store.day_of(ship_at), store.today.index + 1)
    for line in session.cart:
        store.stock.pick_on(pick_day, line.variant.variant_id, session.location_id, line.quantity)
    if not store.in_horizon(ship_at):
        return
    delivered_at = ship_at + rng.randrange(DAY_MS, 6 * DAY_MS)
    delivered = store.in_horizon(delivered_at)
    _ship(session, order, ship_at, delivered_at if delivered else None)
    if delivered:
        _after_delivery(session, totals, order, delivered_at)


def _cancel(session: Session, checkout: Checkout, totals: Totals, order: Row, at_ms: int) -> None:
    store = session.store
    for line in session.cart:
        store.stock.release(line.variant.variant_id, session.location_id, line.quantity)
    order["status_history"].append({"status": "cancelled", "at": iso_ms(at_ms)})
    order["payments"][0]["status"] = "voided"
    properties = order_properties(session, checkout, totals)
    server_event(store, "Order Cancelled", order["customer_id"], properties, at_ms)


def _ship(session: Session, order: Row, ship_at: int, delivered_at: int | None) -> None:
    store, rng = session.store, session.store.rng
    order["status_history"].append({"status": "shipped", "at": iso_ms(ship_at)})
    if delivered_at is not None:
        order["status_history"].append({"status": "delivered", "at": iso_ms(delivered_at)})
    carrier = session.visitor.market.carrier
    tracking = (
        "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
        if carrier == "UPS"
        else "".join(str(rng.randrange(10)) for _ in range(14))
    )
    store.emit_row(
        "shipment",
        {
            "shipment_id": store.ids.next_shipment_id(),
            "order_id": order["order_id"],
            "location_id": session.location_id,
            "carrier": carrier,
            "tracking_number": tracking,
            "shipped_at": iso_ms(ship_at),
            "delivered_at": iso_ms(delivered_at) if delivered_at else None,
            "status": "delivered" if delivered_at else "in_transit",
            "items": [
                {
                    "product_id": i["product_id"],
                    "variant_id": i["variant_id"],
                    "sku": i["sku"],
                    "quantity": i["quantity"],
                }
                for i in order["items"]
            ],
        },
        ship_at,
    )


def _after_delivery(session: Session, totals: Totals, order: Row, delivered_at: int) -> None:
    store, rng = session.store, session.store.rng
    worst = min(session.cart, key=lambda line: line.product.quality)
    refund_rate = max(line.product.leaf.refund_rate for line in session.cart)
    refund_rate *= 2.0 if worst.product.quality < 3.3 else 1.0
    refunded_at = delivered_at + rng.randrange(3 * DAY_MS, 14 * DAY_MS)
    refunded = rng.random() < refund_rate and store.in_horizon(refunded_at)
    if refunded:
        order["status_history"].append({"status": "refunded", "at": iso_ms(refunded_at)})
        order["payments"][0]["status"] = "refunded"
        server_event(
            store,
            "Order Refunded",
            order["customer_id"],
            {
                "order_id": order["order_id"],
                "total": totals.total,
                "currency": order["currency"],
                "products": cart_products(session),
            },
            refunded_at,
        )
    if rng.random() < (0.35 if refunded else 0.15):
        review_at = (refunded_at if refunded else delivered_at) + rng.randrange(DAY_MS // 4, 10 * DAY_MS)
        if store.in_horizon(review_at):
            line = worst if refunded else rng.choice(session.cart)
            _review(store, order["customer_id"], line, review_at, low=refunded)


def _review(store: DemoStore, customer_id: str, line: CartLine, at_ms: int, *, low: bool) -> None:
    rng = store.rng
    rating = min(5, max(1, round(rng.gauss(line.product.quality, 0.8))))
    if low:
        rating = min(rating, rng.choice((1, 2)))
    title, body = REVIEW_TEXT[rating]
    review_id = store.ids.next_review_id()
    body = body.format(name=line.product.title)
    store.emit_row(
        "review",
        {
            "review_id": review_id,
            "product_id": line.product.product_id,
            "customer_id": customer_id,
            "rating": rating,
            "title": title,
            "body": body,
            "created_at": iso_ms(at_ms),
            "verified_purchase": True,
        },
        at_ms,
    )
    server_event(
        store,
        "Product Reviewed",
        customer_id,
        {
            "product_id": line.product.product_id,
            "review_id": review_id,
            "review_body": body,
            "rating": rating,
        },
        at_ms,
    )


def server_event(store: DemoStore, event: str, user_id: str, properties: Row, at_ms: int) -> None:
    """A track call sent from the shop's back end (no browser context)."""
    rng = store.rng
    call: dict[str, Any] = {
        "type": "track",
        "event": event,
        "userId": user_id,
        "messageId": new_uuid(rng),
        "timestamp": iso_ms(at_ms),
        "sentAt": iso_ms(at_ms + rng.randrange(5, 500)),
        "context": {"library": SERVER_LIBRARY},
        "properties": properties,
    }
    store.emit_event(call, at_ms)
