"""Dimensions (customer with type-2 history, product with its category hierarchy, location) and the
smaller facts that come straight from store entities (reviews, marketing spend, daily inventory)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shopsight.warehouse.context import BuildContext, latest


def dim_customer(ctx: BuildContext) -> ir.Table:
    """Type-2 history: one row per distinct customer record version, valid from its arrival to the next.

    PII columns stay as the edge encrypted them (``enc:v1:...``); the email / phone blind indexes allow
    joins. Only the access layer decrypts.
    """
    raw = ctx.table("stg_customer")
    p = raw.payload
    versions = raw.select(
        customer_id=ctx.json(p, "$.customer_id"),
        valid_from=raw.received_at,
        _offset=raw.log_offset,
        _id=raw.id,
        email=ctx.json(p, "$.email"),
        email_blind_index=ctx.json(p, "$._blind.email"),
        phone=ctx.json(p, "$.phone"),
        phone_blind_index=ctx.json(p, "$._blind.phone"),
        first_name=ctx.json(p, "$.first_name"),
        last_name=ctx.json(p, "$.last_name"),
        country=ibis.coalesce(ctx.json(p, "$.country"), ctx.json(p, "$.address.country")),
        segment=ctx.json(p, "$.segment"),
        accepts_marketing=ctx.flag(p, "$.accepts_marketing"),
        created_at=ctx.timestamp(p, "$.created_at"),
        signup_source=ctx.json(p, "$.attributes.signup_source"),
    )
    history = ibis.window(group_by="customer_id", order_by=["valid_from", "_offset", "_id"])
    numbered = versions.mutate(
        version=(ibis.row_number().over(history) + 1).cast("int64"),
        valid_to=versions.valid_from.lead().over(history),
    )
    return numbered.mutate(
        customer_key=numbered.customer_id + "@" + numbered.version.cast("string"),
        is_current=numbered.valid_to.isnull(),
    ).drop("_offset", "_id")


def dim_product(ctx: BuildContext) -> ir.Table:
    """Latest product records with the category path split into three levels."""
    products = ctx.latest_records("product", "product_id")
    p = products.payload
    level = [ctx.json(p, f"$.category_path[{i}]") for i in range(3)]
    return products.select(
        "product_id",
        sku=ctx.json(p, "$.sku"),
        title=ctx.json(p, "$.title"),
        brand=ctx.json(p, "$.brand"),
        category_l1=level[0],
        category_l2=level[1],
        category_l3=level[2],
        category=ibis.coalesce(
            ibis.ifelse(level[2].notnull(), level[0] + "/" + level[1] + "/" + level[2], ibis.null("string")),
            ibis.ifelse(level[1].notnull(), level[0] + "/" + level[1], ibis.null("string")),
            level[0],
        ),
        price=ctx.number(p, "$.price"),
        cost=ctx.number(p, "$.cost"),
        currency=ctx.json(p, "$.currency"),
        active=ctx.flag(p, "$.active").fill_null(True),
        created_at=ctx.timestamp(p, "$.created_at"),
    )


def dim_location(ctx: BuildContext) -> ir.Table:
    """Warehouses, stores and distribution centres."""
    locations = ctx.latest_records("location", "location_id")
    p = locations.payload
    return locations.select(
        "location_id",
        name=ctx.json(p, "$.name"),
        kind=ctx.json(p, "$.kind"),
        country=ctx.json(p, "$.country"),
        region=ctx.json(p, "$.region"),
        timezone=ctx.json(p, "$.timezone"),
    )


def fact_review(ctx: BuildContext) -> ir.Table:
    """Reviews with their rating (text stays in the raw zone for the sentiment work)."""
    reviews = ctx.latest_records("review", "review_id")
    p = reviews.payload
    return reviews.select(
        "review_id",
        product_id=ctx.json(p, "$.product_id"),
        customer_id=ctx.json(p, "$.customer_id"),
        reviewed_at=reviews.ts,
        review_date=ctx.local_date(reviews.ts),
        rating=ctx.integer(p, "$.rating"),
        verified_purchase=ctx.flag(p, "$.verified_purchase"),
        sentiment_label=ctx.json(p, "$.sentiment_label"),
        body_chars=ctx.json(p, "$.body").length().cast("int64"),
    )


def fact_marketing_spend(ctx: BuildContext) -> ir.Table:
    """Spend per day, channel and campaign, in the reporting currency."""
    raw = ctx.table("stg_marketing_spend")
    p = raw.payload
    keyed = raw.mutate(
        spend_date=ctx.json(p, "$.day").try_cast("date"),
        channel=ctx.json(p, "$.channel"),
        campaign=ctx.json(p, "$.campaign").fill_null("(none)"),
    )
    spend = latest(keyed, ["spend_date", "channel", "campaign"])
    q = spend.payload
    typed = spend.select(
        "spend_date",
        "channel",
        "campaign",
        cost=ctx.number(q, "$.cost"),
        currency=ctx.json(q, "$.currency").fill_null("USD"),
        impressions=ctx.integer(q, "$.impressions"),
        clicks=ctx.integer(q, "$.clicks"),
    )
    fx = ctx.table("fx_rate")
    joined = typed.left_join(
        fx, (typed.currency == fx.currency) & (typed.spend_date.truncate("M") == fx.month)
    )
    return joined.select(*[typed[c] for c in typed.columns], cost_reporting=typed.cost * fx.rate)


def fact_inventory_daily(ctx: BuildContext) -> ir.Table:
    """Stock per product (variant) x location at the end of each day a level was reported."""
    raw = ctx.table("stg_inventory_level")
    p = raw.payload
    typed = raw.select(
        "received_at",
        "log_offset",
        "id",
        as_of=raw.ts,
        stock_date=ctx.local_date(raw.ts),
        product_id=ctx.json(p, "$.product_id"),
        variant_id=ctx.json(p, "$.variant_id").fill_null(""),
        location_id=ctx.json(p, "$.location_id"),
        on_hand=ctx.integer(p, "$.on_hand"),
        reserved=ctx.integer(p, "$.reserved").fill_null(0),
    )
    day_end = ibis.window(
        group_by=["product_id", "variant_id", "location_id", "stock_date"],
        order_by=[ibis.desc("as_of"), ibis.desc("received_at"), ibis.desc("log_offset"), ibis.desc("id")],
    )
    ranked = typed.mutate(_rank=ibis.row_number().over(day_end))
    last = ranked.filter(ranked._rank == 0)
    return last.select(
        "stock_date",
        "product_id",
        "variant_id",
        "location_id",
        "on_hand",
        "reserved",
        available=last.on_hand - last.reserved,
        is_stockout=last.on_hand - last.reserved <= 0,
        as_of=last.as_of,
    )
