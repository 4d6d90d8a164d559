"""Response models of the entity routes: what a caller may receive about customers, orders, products, stock.

Fields are what the masking matrix (``masking.yaml``) lets through: PII arrives masked (``j***@example.com``),
person ids pseudonymous (``psn_...``) for roles working on populations, card data as ``**** 4242``. A field
the caller's role does not see is ``null``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

_HIDDEN_NOTE = "Null when empty or not shown to the caller's role."


class CustomerPublic(BaseModel):
    """A customer as the caller's role sees them."""

    customer_id: str = Field(description="Clear for roles serving one customer, else a pseudonym (psn_...).")
    email: str | None = Field(
        default=None, description=f"Masked (j***@example.com) or revealed. {_HIDDEN_NOTE}"
    )
    phone: str | None = Field(default=None, description=f"Masked (last 4 digits) or revealed. {_HIDDEN_NOTE}")
    first_name: str | None = Field(default=None, description=f"Initial or revealed. {_HIDDEN_NOTE}")
    last_name: str | None = Field(default=None, description=f"Initial or revealed. {_HIDDEN_NOTE}")
    country: str | None = None
    segment: str | None = None
    accepts_marketing: bool | None = None
    created_at: datetime | None = None
    signup_source: str | None = None


class PaymentPublic(BaseModel):
    """One payment of an order (card data as the role may see it)."""

    payment_id: str | None = None
    payment_no: int
    paid_at: datetime | None = None
    method: str | None = None
    status: str | None = None
    amount: float | None = None
    currency: str | None = None
    amount_reporting: float | None = None
    card_token: str | None = Field(default=None, description=f"Vault token. {_HIDDEN_NOTE}")
    card_bin: str | None = Field(default=None, description=_HIDDEN_NOTE)
    card_last4: str | None = Field(default=None, description=f"'**** 4242'. {_HIDDEN_NOTE}")


class OrderPublic(BaseModel):
    """An order (latest state) with its amounts; ``*_reporting`` are in the reporting currency."""

    order_id: str
    customer_id: str | None = Field(default=None, description="Clear or a pseudonym, as for customers.")
    anonymous_id: str | None = Field(default=None, description="Clear or a pseudonym, as for customers.")
    placed_at: datetime | None = None
    order_date: date | None = None
    status: str | None = None
    currency: str | None = None
    country: str | None = None
    channel: str | None = None
    coupon: str | None = None
    discount: float | None = None
    shipping: float | None = None
    tax: float | None = None
    line_count: int | None = None
    units: int | None = None
    returned_units: int | None = None
    items_amount: float | None = None
    total: float | None = None
    fx_rate: float | None = None
    total_reporting: float | None = None
    is_sale: bool | None = None
    is_cancelled: bool | None = None
    gross_reporting: float | None = None
    cancelled_reporting: float | None = None
    returned_reporting: float | None = None


class CustomerOrder(OrderPublic):
    """An order in a customer's view, with its payments."""

    payments: list[PaymentPublic]


class OrderLine(BaseModel):
    """One line of an order."""

    line_no: int
    product_id: str | None = None
    variant_id: str | None = None
    sku: str | None = None
    quantity: int | None = None
    unit_price: float | None = None
    discount: float | None = None
    line_amount: float | None = None
    currency: str | None = None
    line_amount_reporting: float | None = None


class OrderDetail(OrderPublic):
    """One order with its lines and payments."""

    items: list[OrderLine]
    payments: list[PaymentPublic]


class SessionPublic(BaseModel):
    """One visit (30 minutes of inactivity ends it)."""

    session_id: str = Field(description="Begins with the person's id: a pseudonym for population roles.")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    pageviews: int | None = None
    product_views: int | None = None
    cart_adds: int | None = None
    checkouts: int | None = None
    orders: int | None = None
    is_bounce: bool | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    device_type: str | None = None
    browser: str | None = None
    country: str | None = None
    landing_page: str | None = None


class ReviewPublic(BaseModel):
    """One product review (the text stays in the lake)."""

    review_id: str
    product_id: str | None = None
    reviewed_at: datetime | None = None
    rating: int | None = None
    verified_purchase: bool | None = None
    sentiment_label: str | None = None


class CustomerTotals(BaseModel):
    """All of the customer's sales (not only the orders listed): the KPI ``orders`` / ``revenue`` rules."""

    orders: int
    revenue: float = Field(description="Gross revenue in the reporting currency.")
    first_order_at: datetime | None
    last_order_at: datetime | None


class CustomerView(BaseModel):
    """Customer 360: the profile, latest orders (with payments), sessions and reviews, and order totals.

    ``orders`` is empty for a role that may not read orders; ``totals`` are aggregates every reader gets.
    """

    customer: CustomerPublic
    orders: list[CustomerOrder]
    sessions: list[SessionPublic]
    reviews: list[ReviewPublic]
    totals: CustomerTotals


class ProductPublic(BaseModel):
    """A product with its category levels; ``cost`` only for roles that may see margins."""

    product_id: str
    sku: str | None = None
    title: str | None = None
    brand: str | None = None
    category_l1: str | None = None
    category_l2: str | None = None
    category_l3: str | None = None
    category: str | None = None
    price: float | None = None
    cost: float | None = Field(default=None, description=_HIDDEN_NOTE)
    currency: str | None = None
    active: bool | None = None
    created_at: datetime | None = None


class StockLevel(BaseModel):
    """End-of-day stock of one SKU at one location."""

    stock_date: date
    product_id: str
    variant_id: str | None = None
    location_id: str
    on_hand: int | None = None
    reserved: int | None = None
    available: int | None = None
    is_stockout: bool | None = None


ItemT = TypeVar("ItemT", bound=BaseModel)


class EntityPage(BaseModel, Generic[ItemT]):
    """One page of a list, the warehouse version it was read from and how many rows match in all."""

    version: str
    page: int
    page_size: int
    total: int
    items: list[ItemT]


class CustomerPage(EntityPage[CustomerPublic]):
    """A page of customers."""


class OrderPage(EntityPage[OrderPublic]):
    """A page of orders."""


class ProductPage(EntityPage[ProductPublic]):
    """A page of products."""


class StockPage(EntityPage[StockLevel]):
    """A page of stock levels."""
