"""The curated model: every table the pipeline builds, in build order, with what it means."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir

from shopsight.warehouse.context import BuildContext
from shopsight.warehouse.transforms import dimensions, events, kpis, marts, orders, staging
from shopsight.warehouse.transforms import recommendations as recs

# Raw-zone kinds the transforms read (a kind with no files yet is an empty table).
RAW_KINDS = (
    "event", "order", "customer", "product", "location", "review", "marketing_spend", "inventory_level",
)  # fmt: skip


@dataclass(frozen=True)
class TableSpec:
    """One curated table: how it is built, its grain (unique key) and what it is for."""

    name: str
    build: Callable[[BuildContext], ir.Table]
    key: tuple[str, ...]
    description: str
    layer: str = "curated"
    # Incremental tables read the raw zone: a run builds them from new raw partitions only and merges them
    # into the previous version on ``key``. Every other table is rebuilt from the staged ones.
    incremental: bool = False


def _kpi_daily(ctx: BuildContext) -> ir.Table:
    return kpis.kpi_daily(ctx.tables)


STAGED_ENTITIES = tuple(
    TableSpec(
        f"stg_{kind}",
        staging.staged_records(kind),
        ("id",),
        f"Raw {kind.replace('_', ' ')} records, one per record id.",
        "staging",
        incremental=True,
    )
    for kind in staging.ENTITY_KINDS
)
TABLES: tuple[TableSpec, ...] = (
    *STAGED_ENTITIES,
    TableSpec(
        "stg_event", events.stg_event, ("event_id",), "Typed Segment calls, deduplicated.", "staging", True
    ),
    TableSpec(
        "identity_map",
        events.identity_map,
        ("anonymous_id",),
        "Browser / aliased id -> user id (identify, alias and calls carrying both ids).",
        "staging",
    ),
    TableSpec("fact_event", events.fact_event, ("event_id",), "Events with stitched person and session."),
    TableSpec("fact_session", events.fact_session, ("session_id",), "30-minute-inactivity sessions."),
    TableSpec("fact_order_item", orders.fact_order_item, ("order_id", "line_no"), "Order lines."),
    TableSpec(
        "fact_order", orders.fact_order, ("order_id",), "Orders (latest state) with reporting amounts."
    ),
    TableSpec(
        "fact_payment", orders.fact_payment, ("order_id", "payment_no"), "Payments (card tokens only)."
    ),
    TableSpec("fact_refund", orders.fact_refund, ("refund_id",), "Refunds and credit notes."),
    TableSpec("dim_customer", dimensions.dim_customer, ("customer_key",), "Customers, type-2 history."),
    TableSpec("dim_product", dimensions.dim_product, ("product_id",), "Products and category levels."),
    TableSpec("dim_location", dimensions.dim_location, ("location_id",), "Warehouses and stores."),
    TableSpec("fact_review", dimensions.fact_review, ("review_id",), "Product reviews."),
    TableSpec(
        "fact_marketing_spend",
        dimensions.fact_marketing_spend,
        ("spend_date", "channel", "campaign"),
        "Marketing spend per day, channel and campaign.",
    ),
    TableSpec(
        "fact_inventory_daily",
        dimensions.fact_inventory_daily,
        ("stock_date", "product_id", "variant_id", "location_id"),
        "End-of-day stock per SKU and location.",
    ),
    TableSpec("kpi_daily", _kpi_daily, ("period",), "Daily KPIs (components and ratios).", "mart"),
    TableSpec(
        "kpi_daily_by_channel",
        marts.kpi_daily_by_channel,
        ("period", "source", "medium"),
        "Daily traffic, funnel, orders and revenue per session source / medium; an order counts under the "
        "session that tracked its Order Completed, else (no session).",
        "mart",
    ),
    TableSpec(
        "kpi_daily_by_country",
        marts.kpi_daily_by_country,
        ("period", "country"),
        "Daily traffic and conversion per session country; orders and revenue per order country.",
        "mart",
    ),
    TableSpec(
        "kpi_daily_by_device",
        marts.kpi_daily_by_device,
        ("period", "device_type"),
        "Daily traffic, funnel, orders and revenue per device type; an order counts under the session "
        "that tracked its Order Completed, else (no session).",
        "mart",
    ),
    TableSpec(
        "kpi_daily_by_category",
        marts.kpi_daily_by_category,
        ("period", "category_l1"),
        "Daily orders, customers, units and item revenue (line amounts) per level-1 product category.",
        "mart",
    ),
    TableSpec(
        "mart_top_products",
        marts.mart_top_products,
        ("period", "product_id"),
        "Products sold per month: units, item revenue, orders and rank (revenue, units, product id).",
        "mart",
    ),
    TableSpec(
        "mart_retention_cohorts",
        marts.mart_retention_cohorts,
        ("cohort_month", "month_offset"),
        "Customer cohorts by first order month: active customers, retention, revenue and repeat purchase "
        "rate at each month offset.",
        "mart",
    ),
    TableSpec(
        "mart_revenue_by_country",
        marts.mart_revenue_by_country,
        ("period", "country"),
        "Monthly gross, cancelled, refunded and net revenue, orders, AOV and refund rate per order country.",
        "mart",
    ),
    TableSpec(
        "mart_cac_by_channel",
        marts.mart_cac_by_channel,
        ("period", "channel"),
        "Monthly marketing spend, new customers (by their first order's channel) and CAC per channel.",
        "mart",
    ),
    TableSpec(
        "mart_funnel",
        marts.mart_funnel,
        ("period", "step_no"),
        "Daily closed funnel session -> product view -> cart -> checkout -> order with step conversion.",
        "mart",
    ),
    TableSpec(
        "mart_promotions",
        marts.mart_promotions,
        ("period", "promotion_id"),
        "Daily promotion views, clicks, viewers, clickers and click-through rate per promotion.",
        "mart",
    ),
    TableSpec(
        "mart_recs_ctr",
        recs.mart_recs_ctr,
        ("period", "model", "version", "surface"),
        "Daily recommendation list views, impressions, clicks, viewers, clickers and CTR per model, version "
        "and surface (events carrying the recommendation context only).",
        "mart",
    ),
)
TABLES_BY_NAME = {spec.name: spec for spec in TABLES}
