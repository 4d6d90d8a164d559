"""Clickstream: typed events, identity stitching, fact_event and 30-minute sessions."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from shopsight.warehouse.context import BuildContext, first_seen

# Referrer hosts that make a session organic search or social when the URL carries no UTM tags.
SEARCH_ENGINES = ("google", "bing", "duckduckgo", "yahoo", "baidu", "yandex", "ecosia")
SOCIAL_NETWORKS = ("facebook", "instagram", "t.co", "twitter", "x.com", "pinterest", "tiktok", "linkedin")


# The JSON fields of a Segment call that stg_event reads (parsed once per call).
EVENT_FIELDS = {
    "message_id": "$.messageId", "event_type": "$.type", "user_id": "$.userId",
    "anonymous_id": "$.anonymousId", "previous_id": "$.previousId",
    "device_type": "$.context.userAgentParsed.device_type", "browser": "$.context.userAgentParsed.browser",
    "os": "$.context.userAgentParsed.os", "location_country": "$.context.location.country",
    "locale": "$.context.locale", "context_url": "$.context.page.url", "property_url": "$.properties.url",
    "context_path": "$.context.page.path", "property_path": "$.properties.path",
    "context_referrer": "$.context.page.referrer", "property_referrer": "$.properties.referrer",
    "utm_source": "$.context.campaign.source", "utm_medium": "$.context.campaign.medium",
    "utm_campaign": "$.context.campaign.name", "product_id": "$.properties.product_id",
    "order_id": "$.properties.order_id", "promotion_id": "$.properties.promotion_id",
    "price": "$.properties.price", "quantity": "$.properties.quantity", "revenue": "$.properties.revenue",
    "total": "$.properties.total", "currency": "$.properties.currency", "properties": "$.properties",
}  # fmt: skip


def stg_event(ctx: BuildContext) -> ir.Table:
    """One typed row per Segment call (deduplicated on its record id)."""
    raw = first_seen(ctx.table("raw_event"), "id")
    f = ctx.engine.json_columns(raw, "payload", EVENT_FIELDS)

    def text(name: str) -> ir.StringValue:
        return f[name].nullif("")

    def number(name: str) -> ir.FloatingValue:
        return f[name].try_cast("float64")

    locale = text("locale")
    locale_country = ibis.ifelse(locale.length() == 5, locale.substr(3, 2).upper(), ibis.null("string"))
    return f.select(
        event_id=f.id,
        message_id=text("message_id"),
        event_type=text("event_type"),
        event_name=f.name,
        ts=f.ts,
        received_at=f.received_at,
        event_date=ctx.local_date(f.ts),
        user_id=text("user_id"),
        anonymous_id=text("anonymous_id"),
        previous_id=text("previous_id"),
        device_type=text("device_type"),
        browser=text("browser"),
        os=text("os"),
        country=ibis.coalesce(text("location_country"), locale_country),
        page_url=ibis.coalesce(text("context_url"), text("property_url")),
        page_path=ibis.coalesce(text("context_path"), text("property_path")),
        referrer=ibis.coalesce(text("context_referrer"), text("property_referrer")),
        utm_source=text("utm_source"),
        utm_medium=text("utm_medium"),
        utm_campaign=text("utm_campaign"),
        product_id=text("product_id"),
        order_id=text("order_id"),
        promotion_id=text("promotion_id"),
        price=number("price"),
        quantity=number("quantity").cast("int64"),
        revenue=ibis.coalesce(number("revenue"), number("total")),
        currency=text("currency"),
        properties=text("properties"),
        source=f.source,
    )


def identity_map(ctx: BuildContext) -> ir.Table:
    """anonymousId (or an aliased previous id) -> the user id it was first seen with.

    identify and any call carrying both ids link a browser to a person; alias links previousId to userId.
    Each id maps to the earliest user it was linked with, and an aliased user id maps on to its target
    (one hop), which merges the two identity graphs.
    """
    events = ctx.table("stg_event")
    browser_links = events.filter(events.user_id.notnull() & events.anonymous_id.notnull()).select(
        alias_id=events.anonymous_id, user_id=events.user_id, ts=events.ts, event_id=events.event_id
    )
    alias_links = events.filter(
        (events.event_type == "alias") & events.user_id.notnull() & events.previous_id.notnull()
    ).select(alias_id=events.previous_id, user_id=events.user_id, ts=events.ts, event_id=events.event_id)
    links = browser_links.union(alias_links)
    window = ibis.window(group_by="alias_id", order_by=["ts", "event_id"])
    ranked = links.mutate(rank=ibis.row_number().over(window))
    first = ranked.filter(ranked.rank == 0).select("alias_id", "user_id", linked_at="ts")
    # One hop: a user id that was itself aliased to another user follows it (merged identity graphs).
    user_aliases = alias_links.group_by("alias_id").aggregate(target=alias_links.user_id.max())
    merged = first.left_join(user_aliases, first.user_id == user_aliases.alias_id)
    return merged.select(
        anonymous_id=merged.alias_id,
        user_id=ibis.coalesce(merged.target, merged.user_id),
        linked_at=merged.linked_at,
    )


def _channel(source: ir.StringValue, medium: ir.StringValue, referrer_host: ir.StringValue) -> ir.Table:
    """(source, medium) of a session from UTM tags, else from the referrer's host, else direct."""
    search = ibis.or_(*(referrer_host.contains(name) for name in SEARCH_ENGINES))
    social = ibis.or_(*(referrer_host.contains(name) for name in SOCIAL_NETWORKS))
    derived_medium = ibis.cases(
        (referrer_host.isnull(), "(none)"),
        (search, "organic"),
        (social, "social"),
        else_="referral",
    )
    return (
        ibis.ifelse(source.notnull(), source, ibis.coalesce(referrer_host, "(direct)")),
        ibis.ifelse(source.notnull(), ibis.coalesce(medium, "(not set)"), derived_medium),
    )


def fact_event(ctx: BuildContext) -> ir.Table:
    """Every event with its stitched person and its session (a new one after 30 idle minutes)."""
    events = ctx.table("stg_event")
    identities = ctx.table("identity_map")
    joined = events.left_join(identities, events.anonymous_id == identities.anonymous_id)
    person = ibis.coalesce(
        events.user_id, identities.user_id, ibis.literal("anon:") + events.anonymous_id.fill_null("")
    )
    with_person = joined.select(
        *[events[c] for c in events.columns if c != "properties"],
        person_id=person,
        stitched_user_id=ibis.coalesce(events.user_id, identities.user_id),
        properties=events.properties,
    )
    # Sessions are made of client-side calls (they carry an anonymousId); server-side calls such as a refund
    # sent by the back office belong to the person but to no session.
    client = with_person.mutate(_client=with_person.anonymous_id.notnull())
    keys = ["person_id", "_client"]
    by_person = ibis.window(group_by=keys, order_by=["ts", "event_id"])
    previous = client.ts.lag().over(by_person)
    gap = ibis.interval(minutes=ctx.session_gap_minutes)
    flagged = client.mutate(_new_session=ibis.ifelse(previous.isnull() | (client.ts > previous + gap), 1, 0))
    running = ibis.window(group_by=keys, order_by=["ts", "event_id"], rows=(None, 0))
    numbered = flagged.mutate(_session_no=flagged._new_session.sum().over(running))
    session = numbered.person_id + "/" + numbered._session_no.cast("string")
    with_session = numbered.mutate(
        session_id=ibis.ifelse(numbered._client, session, ibis.null("string"))
    ).drop("_new_session", "_session_no", "_client")
    in_session = ibis.window(group_by="session_id", order_by=["ts", "event_id"])
    position = ibis.row_number().over(in_session) + 1
    return with_session.mutate(
        event_in_session=ibis.ifelse(with_session.session_id.notnull(), position, ibis.null("int64"))
    )


def fact_session(ctx: BuildContext) -> ir.Table:
    """One row per session: times, landing page, traffic source, device, and how far down the funnel."""
    events = ctx.table("fact_event")
    events = events.filter(events.session_id.notnull())
    name = events.event_name
    sessions = events.group_by("session_id").aggregate(
        person_id=events.person_id.max(),
        user_id=events.stitched_user_id.max(),
        started_at=events.ts.min(),
        ended_at=events.ts.max(),
        events=events.count(),
        pageviews=(events.event_type.isin(["page", "screen"])).cast("int64").sum(),
        product_views=(name == "Product Viewed").cast("int64").sum(),
        cart_adds=(name == "Product Added").cast("int64").sum(),
        checkouts=(name == "Checkout Started").cast("int64").sum(),
        orders=(name == "Order Completed").cast("int64").sum(),
        promotion_views=(name == "Promotion Viewed").cast("int64").sum(),
        promotion_clicks=(name == "Promotion Clicked").cast("int64").sum(),
    )
    first = events.filter(events.event_in_session == 1)
    host = first.referrer.re_extract(r"^[A-Za-z]+://([^/?#:]+)", 1)
    referrer_host = ibis.ifelse(host == "", ibis.null("string"), host.lower())
    source, medium = _channel(first.utm_source, first.utm_medium, referrer_host)
    landing = first.select(
        "session_id",
        anonymous_id=first.anonymous_id,
        landing_page=first.page_path,
        referrer_host=referrer_host,
        source=source,
        medium=medium,
        campaign=first.utm_campaign,
        device_type=ibis.coalesce(first.device_type, "unknown"),
        browser=first.browser,
        country=first.country,
    )
    joined = sessions.inner_join(landing, "session_id")
    started, ended = joined.started_at, joined.ended_at
    return joined.mutate(
        session_date=ctx.local_date(started),
        duration_seconds=(ended.truncate("s").epoch_seconds() - started.truncate("s").epoch_seconds()).cast(
            "int64"
        ),
        is_bounce=joined.events == 1,
    )
