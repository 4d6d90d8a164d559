"""Entity views over the published warehouse: current customers, customer 360, one order, current stock.

Every part is an engine query on the published tables (either warehouse engine); nothing is masked here,
the API masks the result per caller before it leaves. A :class:`RowScope` narrows the rows to a caller's
stores and regions before anything is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

CUSTOMER_COLUMNS = (
    "customer_id", "email", "phone", "first_name", "last_name", "country", "segment", "accepts_marketing",
    "created_at", "signup_source",
)  # fmt: skip


@dataclass(frozen=True)
class RowScope:
    """The rows a caller may see: their stores and regions (both empty: every row).

    Stock rows carry a location (``dim_location``: id, country, region); customers and orders carry a
    country only (the customer's, the shipping one). A region is an ISO 3166-1 country code (``US``),
    which admits that country's customers, orders and locations, or an ISO 3166-2 subdivision (``US-NY``),
    which admits the locations in it (its country and region code) and no order, since orders are not
    placed in a subdivision the warehouse knows. A store is a location id: it admits that location's
    stock, and no customer or order, because orders record no store. Whatever cannot be attributed to the
    scope is left out (fail closed); stores and regions together must both hold. Codes compare
    case-insensitively.
    """

    stores: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    @property
    def unlimited(self) -> bool:
        """Whether the caller sees every row."""
        return not self.stores and not self.regions

    def countries(self) -> frozenset[str]:
        """The country codes among the regions, upper-cased."""
        return frozenset(region.upper() for region in self.regions if "-" not in region)

    def slicing_countries(self) -> frozenset[str]:
        """The countries figures that add up every row (KPIs, marts) may be sliced to for this scope:
        its countries, or none with a store scope (orders record no store)."""
        return frozenset() if self.stores else self.countries()

    def by_country(self, rows: ir.Table) -> ir.Table:
        """``rows`` (with a ``country`` column) inside the scope."""
        if self.unlimited:
            return rows
        countries = sorted(self.countries())
        if self.stores or not countries:
            return rows.filter(ibis.literal(False))
        return rows.filter(rows.country.upper().isin(countries))

    def by_location(self, rows: ir.Table, locations: ir.Table) -> ir.Table:
        """``rows`` (with a ``location_id`` column) at a location of ``dim_location`` inside the scope."""
        if self.unlimited:
            return rows
        allowed = locations
        if self.stores:
            allowed = allowed.filter(allowed.location_id.isin(sorted(self.stores)))
        if self.regions:
            wanted = sorted(region.upper() for region in self.regions)
            subdivision = allowed.country.upper().concat("-", allowed.region.upper())
            allowed = allowed.filter(allowed.country.upper().isin(wanted) | subdivision.isin(wanted))
        return rows.filter(rows.location_id.isin(allowed.location_id))


UNLIMITED = RowScope()


@dataclass(frozen=True)
class OrderTotals:
    """A customer's sales (cancelled orders included, zero-value orders not): the KPI ``revenue`` rule."""

    orders: int
    revenue: float
    first_order_at: datetime | None
    last_order_at: datetime | None


@dataclass(frozen=True)
class Customer360:
    """The raw (still encrypted, unmasked) parts of one customer's view, newest first."""

    customer: dict[str, Any]
    orders: pa.Table
    payments: pa.Table
    sessions: pa.Table
    reviews: pa.Table
    totals: OrderTotals


def current_customers(tables: Mapping[str, ir.Table]) -> ir.Table:
    """The current version of every customer (``dim_customer`` keeps type-2 history)."""
    customers = tables["dim_customer"]
    return customers.filter(customers.is_current).select(*CUSTOMER_COLUMNS)


def order_totals(orders: ir.Table) -> OrderTotals:
    """Count, revenue and first / last order time of the sales among ``orders``."""
    sales = orders.filter(orders.is_sale)
    row = sales.aggregate(
        orders=sales.count(),
        revenue=sales.gross_reporting.sum().fill_null(0.0),
        first_order_at=sales.placed_at.min(),
        last_order_at=sales.placed_at.max(),
    ).to_pyarrow().to_pylist()[0]  # fmt: skip
    return OrderTotals(
        orders=int(row["orders"]), revenue=float(row["revenue"]),
        first_order_at=row["first_order_at"], last_order_at=row["last_order_at"],
    )  # fmt: skip


def customer_360(
    tables: Mapping[str, ir.Table], customer_id: str, *, limit: int, scope: RowScope = UNLIMITED
) -> Customer360 | None:
    """The view of ``customer_id`` with its ``limit`` latest orders, sessions and reviews (None: unknown,
    or outside ``scope``). Only the customer's orders inside ``scope`` are listed and totalled."""
    customers = scope.by_country(current_customers(tables))
    found = customers.filter(customers.customer_id == customer_id).limit(1).to_pyarrow().to_pylist()
    if not found:
        return None
    orders = scope.by_country(tables["fact_order"])
    orders = orders.filter(orders.customer_id == customer_id)
    latest_orders = orders.order_by([ibis.desc(orders.placed_at), orders.order_id]).limit(limit)
    payments = tables["fact_payment"]
    order_payments = payments.filter(payments.order_id.isin(latest_orders.order_id))
    sessions = tables["fact_session"].filter(tables["fact_session"].person_id == customer_id)
    reviews = tables["fact_review"].filter(tables["fact_review"].customer_id == customer_id)
    return Customer360(
        customer=found[0],
        orders=latest_orders.to_pyarrow(),
        payments=order_payments.order_by([payments.order_id, payments.payment_no]).to_pyarrow(),
        sessions=sessions.order_by([ibis.desc(sessions.started_at), sessions.session_id]).limit(limit)
        .to_pyarrow(),
        reviews=reviews.order_by([ibis.desc(reviews.reviewed_at), reviews.review_id]).limit(limit)
        .to_pyarrow(),
        totals=order_totals(orders),
    )  # fmt: skip


def order_detail(
    tables: Mapping[str, ir.Table], order_id: str, *, scope: RowScope = UNLIMITED
) -> tuple[dict[str, Any], pa.Table, pa.Table] | None:
    """One order with its lines and payments (None: unknown, or outside ``scope``)."""
    orders = scope.by_country(tables["fact_order"])
    found = orders.filter(orders.order_id == order_id).limit(1).to_pyarrow().to_pylist()
    if not found:
        return None
    items, payments = tables["fact_order_item"], tables["fact_payment"]
    lines = items.filter(items.order_id == order_id).order_by(items.line_no).to_pyarrow()
    paid = payments.filter(payments.order_id == order_id).order_by(payments.payment_no).to_pyarrow()
    return found[0], lines, paid


STOCK_KEY = ("product_id", "variant_id", "location_id")


def current_stock(levels: ir.Table) -> ir.Table:
    """The latest reported level of every SKU at every location (levels are reported on change only)."""
    latest = ibis.window(group_by=list(STOCK_KEY), order_by=[ibis.desc(levels.stock_date)])
    ranked = levels.mutate(_rank=ibis.row_number().over(latest))
    return ranked.filter(ranked._rank == 0).drop("_rank")
