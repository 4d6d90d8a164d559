"""The recommendation feedback loop in the warehouse: impressions, clicks and CTR per model and surface.

Storefronts track ``Product List Viewed`` / ``Product Clicked`` with a ``recommendation`` object (model,
version, request id, surface; see :mod:`shopsight.ml.recommend.feedback`). Only events carrying it count,
so category lists and search results never dilute a model's click-through rate.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shopsight.warehouse.context import BuildContext
from shopsight.warehouse.transforms.marts import UNKNOWN, count_where, ratio

LIST_VIEWED, PRODUCT_CLICKED = "Product List Viewed", "Product Clicked"


def _feedback_events(ctx: BuildContext) -> ir.Table:
    """Recommendation list views and clicks with their model, version, surface and products shown."""
    events = ctx.table("fact_event")
    listed = events.filter(events.event_name.isin([LIST_VIEWED, PRODUCT_CLICKED]))
    p = listed.properties
    products = ctx.engine.json_array(ctx.engine.json_text(p, "$.products"))
    typed = listed.select(
        period=listed.event_date,
        model=ctx.json(p, "$.recommendation.model"),
        version=ctx.integer(p, "$.recommendation.version"),
        surface=ctx.json(p, "$.recommendation.surface").fill_null(UNKNOWN),
        is_view=listed.event_name == LIST_VIEWED,
        person_id=listed.person_id,
        # A list view without a products array showed nothing (Spark's size(NULL) is -1, DuckDB's NULL).
        shown=ibis.ifelse(products.isnull(), 0, products.length()).cast("int64"),
    )
    return typed.filter(typed.model.notnull() & typed.version.notnull())


def mart_recs_ctr(ctx: BuildContext) -> ir.Table:
    """Daily list views, impressions, clicks and CTR of recommendations per model, version and surface.

    ``impressions``: products shown in recommendation list views; ``clicks``: Product Clicked events with
    the recommendation context; ``ctr`` = clicks / impressions (NULL without impressions). ``viewers`` /
    ``clickers`` are distinct people (stitched user, else browser).
    """
    events = _feedback_events(ctx)
    view, none = events.is_view, ibis.null("string")
    daily = events.group_by(["period", "model", "version", "surface"]).aggregate(
        list_views=count_where(view),
        impressions=ibis.ifelse(view, events.shown, 0).sum().cast("int64"),
        clicks=count_where(~view),
        viewers=ibis.ifelse(view, events.person_id, none).nunique().cast("int64"),
        clickers=ibis.ifelse(~view, events.person_id, none).nunique().cast("int64"),
    )
    return daily.mutate(ctr=ratio(daily.clicks, daily.impressions))
