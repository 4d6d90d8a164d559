"""The store's entities as versioned pydantic models; every field is classified.

Field names follow the demo store files and the import mappings (snake_case, ids as strings, money as
numbers in the record's currency, times as ISO 8601 in UTC). Models are strict about names
(``extra="forbid"``): a column nobody mapped is an error in the mapping, not silently kept.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from shopsight.entities.classification import Classification as C
from shopsight.entities.classification import classified
from shopsight.records import RecordKind

ENTITY_SCHEMA_VERSION = 1


class _Part(BaseModel):
    """A nested part of an entity (address, order item...)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class Entity(_Part):
    """A top-level store entity: knows its record kind, key field, time field and owner field."""

    record_kind: ClassVar[RecordKind]
    key_field: ClassVar[str]
    time_field: ClassVar[str | None] = None
    subject_field: ClassVar[str | None] = None  # the customer whose data key protects the record

    def key(self) -> str:
        """The entity's natural key."""
        return str(getattr(self, self.key_field))

    def business_time(self) -> datetime | None:
        """When the entity's state is from (order placed, review written, level measured...)."""
        if self.time_field is None:
            return None
        value = getattr(self, self.time_field)
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        return None

    def subject(self) -> str | None:
        """The customer the record is about, if any."""
        if self.subject_field is None:
            return None
        value = getattr(self, self.subject_field)
        return None if value in (None, "") else str(value)


class Address(_Part):
    """A postal address. Everything that can locate a person is PII; country stays usable."""

    line1: str | None = classified(C.PII, "Street and number.", None)
    line2: str | None = classified(C.PII, "Apartment, suite, floor.", None)
    city: str | None = classified(C.PII, "City or town.", None)
    region: str | None = classified(C.INTERNAL, "State, province or region code.", None)
    postal_code: str | None = classified(C.PII, "ZIP or postal code.", None)
    country: str | None = classified(C.INTERNAL, "ISO 3166-1 alpha-2 country code.", None)


class Customer(Entity):
    """A shopper with an account (as at sign-up, or as last updated)."""

    record_kind = RecordKind.CUSTOMER
    key_field = "customer_id"
    time_field = "created_at"
    subject_field = "customer_id"

    customer_id: str = classified(C.INTERNAL, "Stable pseudonymous customer id.", min_length=1)
    email: str | None = classified(C.PII, "Email address (encrypted; blind-indexed for lookups).", None)
    phone: str | None = classified(C.PII, "Phone number (encrypted; blind-indexed for lookups).", None)
    first_name: str | None = classified(C.PII, "Given name.", None)
    last_name: str | None = classified(C.PII, "Family name.", None)
    address: Address | None = classified(C.PII, "Default address.", None)
    country: str | None = classified(C.INTERNAL, "Country of the customer (ISO alpha-2 or name).", None)
    created_at: datetime | None = classified(C.INTERNAL, "When the account was created.", None)
    segment: str | None = classified(C.INTERNAL, "Marketing segment.", None)
    accepts_marketing: bool | None = classified(C.INTERNAL, "Marketing consent.", None)
    attributes: dict[str, Any] = classified(C.INTERNAL, "Other attributes (locale, source...).", {})


class ProductVariant(_Part):
    """A sellable variant (size, colour) of a product."""

    variant_id: str = classified(C.PUBLIC, "Variant id.", min_length=1)
    sku: str | None = classified(C.PUBLIC, "Stock keeping unit.", None)
    title: str | None = classified(C.PUBLIC, "Variant title.", None)
    attributes: dict[str, Any] = classified(C.PUBLIC, "Variant attributes (size, colour...).", {})
    price: float | None = classified(C.PUBLIC, "List price.", None, ge=0)
    cost: float | None = classified(C.INTERNAL, "Unit cost.", None, ge=0)


class Product(Entity):
    """A catalog product with its category path and variants."""

    record_kind = RecordKind.PRODUCT
    key_field = "product_id"
    time_field = "created_at"

    product_id: str = classified(C.PUBLIC, "Product id.", min_length=1)
    sku: str | None = classified(C.PUBLIC, "Stock keeping unit.", None)
    title: str | None = classified(C.PUBLIC, "Product title.", None)
    description: str | None = classified(C.PUBLIC, "Product description.", None)
    brand: str | None = classified(C.PUBLIC, "Brand.", None)
    category_path: list[str] = classified(C.PUBLIC, "Category path, root first.", [])
    attributes: dict[str, Any] = classified(C.PUBLIC, "Attributes (material, origin...).", {})
    price: float | None = classified(C.PUBLIC, "List price.", None, ge=0)
    cost: float | None = classified(C.INTERNAL, "Unit cost (margin is confidential).", None, ge=0)
    currency: str | None = classified(C.PUBLIC, "ISO 4217 currency of price and cost.", None)
    variants: list[ProductVariant] = classified(C.PUBLIC, "Variants.", [])
    created_at: datetime | None = classified(C.PUBLIC, "When the product was listed.", None)
    active: bool = classified(C.PUBLIC, "Whether it is on sale.", True)


class OrderStatus(StrEnum):
    """Order lifecycle states (``completed`` for sources that only know placed-and-paid)."""

    PENDING = "pending"
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    RETURNED = "returned"


class StatusChange(_Part):
    """One step of an order's status history."""

    status: OrderStatus = classified(C.INTERNAL, "Status entered.")
    at: datetime = classified(C.INTERNAL, "When.")


class OrderItem(_Part):
    """One order line. Negative quantities are returned units (cancellation invoices)."""

    product_id: str = classified(C.PUBLIC, "Product id.", min_length=1)
    variant_id: str | None = classified(C.PUBLIC, "Variant id.", None)
    sku: str | None = classified(C.PUBLIC, "SKU.", None)
    name: str | None = classified(C.PUBLIC, "Product name at order time.", None)
    quantity: int = classified(C.INTERNAL, "Units (negative for returned units).")
    unit_price: float = classified(C.INTERNAL, "Price per unit, in the order currency.", ge=0)
    discount: float = classified(C.INTERNAL, "Discount on the line.", 0.0, ge=0)


class Payment(_Part):
    """A payment. Card numbers are tokenized and CVVs dropped at the edge, before anything is stored."""

    payment_id: str | None = classified(C.INTERNAL, "Payment id.", None)
    method: str | None = classified(C.INTERNAL, "card, paypal, gift_card...", None)
    amount: float = classified(C.INTERNAL, "Amount in ``currency``.")
    currency: str | None = classified(C.INTERNAL, "ISO 4217 currency.", None)
    card_number: str | None = classified(C.PAYMENT, "Card number: a vault token once stored.", None)
    cvv: str | None = classified(C.PAYMENT, "Card security code: accepted, never stored.", None)
    card_token: str | None = classified(C.PAYMENT, "Token of the card in the vault.", None)
    card_bin: str | None = classified(C.PAYMENT, "First six digits of the card.", None)
    card_last4: str | None = classified(C.PAYMENT, "Last four digits of the card.", None)
    status: str | None = classified(C.INTERNAL, "authorized, captured, refunded, failed...", None)


class Order(Entity):
    """An order with its lines, payments, addresses and status history (latest state)."""

    record_kind = RecordKind.ORDER
    key_field = "order_id"
    time_field = "placed_at"
    subject_field = "customer_id"

    order_id: str = classified(C.INTERNAL, "Order id.", min_length=1)
    customer_id: str | None = classified(C.INTERNAL, "Customer id; empty for guest checkouts.", None)
    anonymous_id: str | None = classified(C.INTERNAL, "Browser id of the session that ordered.", None)
    placed_at: datetime = classified(C.INTERNAL, "When the order was placed.")
    currency: str = classified(C.INTERNAL, "ISO 4217 currency of every amount.", pattern=r"^[A-Z]{3}$")
    status: OrderStatus = classified(C.INTERNAL, "Current status.")
    status_history: list[StatusChange] = classified(C.INTERNAL, "Status changes, oldest first.", [])
    items: list[OrderItem] = classified(C.INTERNAL, "Order lines.", min_length=1)
    payments: list[Payment] = classified(C.PAYMENT, "Payments (card data tokenized).", [])
    shipping_address: Address | None = classified(C.PII, "Where it ships.", None)
    billing_address: Address | None = classified(C.PII, "Billing address.", None)
    subtotal: float | None = classified(C.INTERNAL, "Sum of lines after line discounts.", None)
    tax: float | None = classified(C.INTERNAL, "Tax.", None)
    shipping: float | None = classified(C.INTERNAL, "Shipping charged.", None)
    discount: float | None = classified(C.INTERNAL, "Order-level discount.", None)
    total: float | None = classified(C.INTERNAL, "Amount charged.", None)
    coupon: str | None = classified(C.INTERNAL, "Coupon code used.", None)
    channel: str | None = classified(C.INTERNAL, "Marketing channel of the order.", None)
    country: str | None = classified(C.INTERNAL, "Country of the order.", None)


class InventoryLevel(Entity):
    """Stock of one product (variant) at one location at a moment."""

    record_kind = RecordKind.INVENTORY_LEVEL
    key_field = "level_key"
    time_field = "as_of"

    product_id: str = classified(C.INTERNAL, "Product id.", min_length=1)
    variant_id: str | None = classified(C.INTERNAL, "Variant id.", None)
    location_id: str = classified(C.INTERNAL, "Location id.", min_length=1)
    on_hand: int = classified(C.INTERNAL, "Units on the shelf.")
    reserved: int = classified(C.INTERNAL, "Units reserved by open orders.", 0)
    as_of: datetime = classified(C.INTERNAL, "When the level was measured.")

    @property
    def level_key(self) -> str:
        """Product, variant, location and moment identify one reading."""
        return f"{self.product_id}|{self.variant_id or ''}|{self.location_id}|{self.as_of.isoformat()}"


class LocationKind(StrEnum):
    """Where stock can be."""

    WAREHOUSE = "warehouse"
    STORE = "store"
    DC = "dc"


class Location(Entity):
    """A warehouse, distribution centre or shop."""

    record_kind = RecordKind.LOCATION
    key_field = "location_id"

    location_id: str = classified(C.INTERNAL, "Location id.", min_length=1)
    name: str | None = classified(C.INTERNAL, "Name.", None)
    kind: LocationKind = classified(C.INTERNAL, "warehouse, store or dc.", LocationKind.WAREHOUSE)
    country: str | None = classified(C.INTERNAL, "Country.", None)
    region: str | None = classified(C.INTERNAL, "Region.", None)
    timezone: str | None = classified(C.INTERNAL, "IANA time zone.", None)


class Supplier(Entity):
    """A supplier and its replenishment lead time."""

    record_kind = RecordKind.SUPPLIER
    key_field = "supplier_id"

    supplier_id: str = classified(C.INTERNAL, "Supplier id.", min_length=1)
    name: str | None = classified(C.INTERNAL, "Name.", None)
    country: str | None = classified(C.INTERNAL, "Country.", None)
    lead_time_days_mean: float | None = classified(C.INTERNAL, "Mean lead time in days.", None, ge=0)
    lead_time_days_std: float | None = classified(C.INTERNAL, "Lead time standard deviation.", None, ge=0)
    products: list[str] = classified(C.INTERNAL, "Product ids it supplies.", [])


class ShipmentItem(_Part):
    """Units of one product in a shipment."""

    product_id: str = classified(C.INTERNAL, "Product id.", min_length=1)
    variant_id: str | None = classified(C.INTERNAL, "Variant id.", None)
    sku: str | None = classified(C.INTERNAL, "SKU.", None)
    quantity: int = classified(C.INTERNAL, "Units.", ge=0)


class Shipment(Entity):
    """A parcel sent for an order."""

    record_kind = RecordKind.SHIPMENT
    key_field = "shipment_id"
    time_field = "shipped_at"

    shipment_id: str = classified(C.INTERNAL, "Shipment id.", min_length=1)
    order_id: str = classified(C.INTERNAL, "Order id.", min_length=1)
    location_id: str | None = classified(C.INTERNAL, "Location it left from.", None)
    carrier: str | None = classified(C.INTERNAL, "Carrier.", None)
    tracking_number: str | None = classified(C.INTERNAL, "Carrier tracking number.", None)
    shipped_at: datetime | None = classified(C.INTERNAL, "When it left.", None)
    delivered_at: datetime | None = classified(C.INTERNAL, "When it arrived.", None)
    status: str | None = classified(C.INTERNAL, "shipped, delivered, returned...", None)
    items: list[ShipmentItem] = classified(C.INTERNAL, "What it holds.", [])


class Review(Entity):
    """A product review; ``sentiment_label`` keeps a label the source provided (datasets)."""

    record_kind = RecordKind.REVIEW
    key_field = "review_id"
    time_field = "created_at"
    subject_field = "customer_id"

    review_id: str = classified(C.PUBLIC, "Review id.", min_length=1)
    product_id: str | None = classified(C.PUBLIC, "Product reviewed (unknown for some datasets).", None)
    customer_id: str | None = classified(C.INTERNAL, "Author's customer id.", None)
    rating: int | None = classified(C.PUBLIC, "Stars, 1-5.", None, ge=1, le=5)
    title: str | None = classified(C.PUBLIC, "Headline.", None)
    body: str = classified(C.PUBLIC, "Review text as published.", min_length=1)
    created_at: datetime | None = classified(C.PUBLIC, "When it was written.", None)
    verified_purchase: bool | None = classified(C.PUBLIC, "Author bought the product.", None)
    sentiment_label: str | None = classified(C.INTERNAL, "Source-provided label: positive or negative.", None)

    @field_validator("sentiment_label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and value not in ("positive", "negative"):
            raise ValueError("must be 'positive' or 'negative'")
        return value


class MarketingSpend(Entity):
    """Cost of one campaign on one channel on one day."""

    record_kind = RecordKind.MARKETING_SPEND
    key_field = "spend_key"
    time_field = "day"

    day: date = classified(C.INTERNAL, "Day of the spend.")
    channel: str = classified(C.INTERNAL, "Channel (paid_search, paid_social, email...).", min_length=1)
    campaign: str | None = classified(C.INTERNAL, "Campaign name.", None)
    cost: float = classified(C.INTERNAL, "Cost in ``currency``.", ge=0)
    currency: str = classified(C.INTERNAL, "ISO 4217 currency.", "USD", pattern=r"^[A-Z]{3}$")
    impressions: int | None = classified(C.INTERNAL, "Impressions.", None, ge=0)
    clicks: int | None = classified(C.INTERNAL, "Clicks.", None, ge=0)

    @property
    def spend_key(self) -> str:
        """Day, channel and campaign identify one spend row."""
        return f"{self.day.isoformat()}|{self.channel}|{self.campaign or ''}"


ENTITY_MODELS: dict[RecordKind, type[Entity]] = {
    model.record_kind: model
    for model in (
        Customer, Product, Order, InventoryLevel, Location, Supplier, Shipment, Review, MarketingSpend,
    )
}  # fmt: skip
