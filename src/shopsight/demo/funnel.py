"""A whole visit: land, browse, fill the cart and maybe check out (about 70% of carts are abandoned)."""

from __future__ import annotations

from shopsight.demo.behaviour import (
    Session,
    Visitor,
    add_to_cart,
    discover,
    land,
    show_promotion,
    sign_in,
    sign_up,
    tidy_cart,
    view_product,
    wishlist_or_share,
)
from shopsight.demo.customers import Customer, Segment, new_uuid
from shopsight.demo.market import Promotion
from shopsight.demo.marketing import pick_campaign, pick_channel
from shopsight.demo.orders import Checkout, order_properties, place_order, totals_for
from shopsight.demo.payments import Card
from shopsight.demo.recommendations import recommend, recommend_on_product_page
from shopsight.demo.store import DemoStore, Row

INVALID_COUPONS = ("SAVE50", "FREESHIP", "VIP2020", "WELCOME5")
PAYMENT_METHODS = ("card", "paypal", "apple_pay", "klarna")


def run_session(store: DemoStore, visitor: Visitor, start_ms: int) -> Session:
    """Play one visit from landing to (maybe) an order."""
    rng = store.rng
    channel = pick_channel(rng, returning=visitor.customer is not None)
    promotion = store.today.promotion
    campaign = pick_campaign(channel, promotion, rng)
    if campaign:
        store.paid_visits[(channel.name, campaign)] += 1
    session = Session(store, visitor, start_ms, channel, campaign)
    land(session)
    if session.page.get("path") == "/":
        recommend(session, "home")
    if visitor.customer is not None and not visitor.logged_in and rng.random() < 0.35:
        sign_in(session, failures=_typos(session))
    if promotion is not None and rng.random() < 0.5:
        show_promotion(session, promotion)
    browse(session, promotion)
    if session.cart:
        tidy_cart(session)
        if session.page.get("path") == "/cart":
            recommend(session, "cart")
        if rng.random() < _checkout_probability(session, promotion):
            checkout(session, promotion)
    elif visitor.customer is None and rng.random() < 0.03:
        sign_up(session)
    return session


def _segment(session: Session) -> Segment | None:
    customer = session.visitor.customer
    return customer.segment if customer else None


def _typos(session: Session) -> int:
    """Honest customers mistype passwords too, so one failed login is not fraud."""
    roll = session.store.rng.random()
    return 2 if roll < 0.01 else 1 if roll < 0.05 else 0


def _promo_applies(promotion: Promotion | None, top: str) -> bool:
    return promotion is not None and promotion.top_category in (None, top)


def browse(session: Session, promotion: Promotion | None) -> None:
    """Look at a few products, mostly in favourite categories, adding some to the cart."""
    store, rng = session.store, session.store.rng
    segment = _segment(session)
    customer = session.visitor.customer
    views = min(12, int(rng.expovariate(1 / (segment.views_mean if segment else 3.0))))
    for _ in range(views):
        leaf_index = _pick_leaf(store, customer)
        product = store.catalog.pick_product(leaf_index, rng)
        discover(session, leaf_index, product)
        in_stock = view_product(session, product)
        recommend_on_product_page(session, product)
        if in_stock and rng.random() < _add_probability(segment, promotion, product.leaf.top):
            quantity = 1 + (rng.random() < (segment.extra_units if segment else 0.1)) + (rng.random() < 0.05)
            add_to_cart(session, product, rng.choice(in_stock), quantity)
        else:
            wishlist_or_share(session, product)


def _pick_leaf(store: DemoStore, customer: Customer | None) -> int:
    """Customers stick to their favourite categories two times in three: the signal recommenders learn."""
    rng = store.rng
    if customer is not None and rng.random() < 0.65:
        return rng.choice(customer.favourites)
    return store.catalog.pick_leaf(rng)


def _add_probability(segment: Segment | None, promotion: Promotion | None, top: str) -> float:
    probability = 0.13 * (segment.add_mult if segment else 0.85)
    if _promo_applies(promotion, top):
        probability *= 1.0 + 0.25 * (segment.promo_sensitivity if segment else 1.0)
    return min(0.8, probability)


def _checkout_probability(session: Session, promotion: Promotion | None) -> float:
    segment = _segment(session)
    probability = 0.40 * (segment.checkout_mult if segment else 0.85)
    if segment is not None and promotion is not None:
        probability *= min(1.6, segment.promo_sensitivity**0.5)
    return min(0.9, probability)


def checkout(session: Session, promotion: Promotion | None) -> Row | None:
    """The checkout funnel: each step loses some shoppers; the rest place an order."""
    rng = session.store.rng
    if session.visitor.customer is None:
        sign_up(session)
    elif not session.visitor.logged_in:
        sign_in(session, failures=_typos(session))
    plan = _checkout_plan(session)
    _start(session, plan)
    if not _step(session, plan, 1, 0.10) or not _step(session, plan, 2, 0.08, shipping=True):
        return None
    _coupons(session, plan, promotion)
    session.track("Checkout Step Viewed", {"checkout_id": plan.checkout_id, "step": 3})
    if rng.random() < 0.12:
        return None
    session.track(
        "Payment Info Entered",
        {
            "checkout_id": plan.checkout_id,
            "order_id": plan.order_id,
            "step": 3,
            "shipping_method": plan.shipping_method,
            "payment_method": plan.payment_method,
        },
    )
    session.track(
        "Checkout Step Completed",
        {"checkout_id": plan.checkout_id, "step": 3, "payment_method": plan.payment_method},
    )
    if rng.random() < 0.05:  # declined card or second thoughts
        return None
    return place_order(session, plan)


def _checkout_plan(session: Session) -> Checkout:
    store, rng = session.store, session.store.rng
    customer = session.visitor.customer
    assert customer is not None
    method = rng.choices(PAYMENT_METHODS, weights=_payment_weights(customer.country.code))[0]
    card = rng.choice(customer.cards) if method == "card" else None
    address = customer.address if rng.random() < 0.9 else store.factory.address(customer.country, rng)
    return Checkout(
        order_id=store.ids.next_order_id(),
        checkout_id=new_uuid(rng),
        coupon=None,
        discount_rate=0.0,
        shipping_method="express" if rng.random() < 0.15 else "standard",
        payment_method=method,
        card=card,
        shipping_address=address,
        billing_address=customer.address,
    )


def _payment_weights(country: str) -> tuple[float, ...]:
    return (0.6, 0.15, 0.08, 0.17) if country in ("DE", "NL") else (0.74, 0.16, 0.08, 0.02)


def _start(session: Session, plan: Checkout) -> None:
    session.visit_page("Checkout", "/checkout", "Checkout")
    totals = totals_for(session, plan.discount_rate, plan.shipping_method)
    session.track("Checkout Started", order_properties(session, plan, totals))


def _step(session: Session, plan: Checkout, step: int, drop: float, *, shipping: bool = False) -> bool:
    session.track("Checkout Step Viewed", {"checkout_id": plan.checkout_id, "step": step})
    if session.store.rng.random() < drop:
        return False
    properties: Row = {"checkout_id": plan.checkout_id, "step": step}
    if shipping:
        properties["shipping_method"] = plan.shipping_method
    session.track("Checkout Step Completed", properties)
    return True


def _coupons(session: Session, plan: Checkout, promotion: Promotion | None) -> None:
    """Bargain hunters try codes; valid ones are the running promotion's and WELCOME10 on a first order."""
    rng = session.store.rng
    customer = session.visitor.customer
    assert customer is not None
    affinity = customer.segment.coupon_affinity
    has_promo = promotion is not None and rng.random() < 0.6
    if not has_promo and rng.random() >= affinity * 0.4:
        return
    first_order = customer.order_count == 0
    code = (
        promotion.coupon
        if has_promo and promotion
        else ("WELCOME10" if first_order and rng.random() < 0.6 else rng.choice(INVALID_COUPONS))
    )
    base = {"cart_id": session.cart_id, "order_id": plan.order_id, "coupon_id": code}
    session.track("Coupon Entered", base)
    rate = _coupon_rate(code, promotion, session, first_order)
    if rate is None:
        session.track("Coupon Denied", {**base, "reason": "Coupon expired or not valid"})
        return
    totals = totals_for(session, rate, plan.shipping_method)
    session.track("Coupon Applied", {**base, "coupon_name": code, "discount": totals.discount})
    if rng.random() < 0.04:
        session.track("Coupon Removed", {**base, "coupon_name": code, "discount": totals.discount})
        return
    plan.coupon, plan.discount_rate = code, rate


def _coupon_rate(code: str, promotion: Promotion | None, session: Session, first_order: bool) -> float | None:
    if promotion is not None and code == promotion.coupon:
        tops = {line.product.leaf.top for line in session.cart}
        return promotion.discount if promotion.top_category in (None, *tops) else None
    if code == "WELCOME10" and first_order:
        return 0.10
    return None


def expensive_checkout(session: Session, *, card: Card, shipping_address: Row) -> Row | None:
    """A checkout that never drops out (used by anomalies): a given card, another shipping address."""
    plan = _checkout_plan(session)
    plan.payment_method, plan.card = "card", card
    plan.shipping_address, plan.shipping_method = shipping_address, "express"
    _start(session, plan)
    for step in (1, 2):
        _step(session, plan, step, 0.0, shipping=step == 2)
    session.track(
        "Payment Info Entered",
        {
            "checkout_id": plan.checkout_id,
            "order_id": plan.order_id,
            "step": 3,
            "shipping_method": plan.shipping_method,
            "payment_method": "card",
        },
    )
    return place_order(session, plan, cancel_probability=0.0)
