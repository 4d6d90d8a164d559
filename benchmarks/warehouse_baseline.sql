-- Hand-written DuckDB SQL doing the work of ShopSight's stg_event, identity_map, fact_event, fact_session,
-- stg_order, fact_order_item and fact_order (benchmarks/warehouse.py runs it side by side).
-- {events} and {orders} are lists of Parquet files; {out} is the output folder.
SET TimeZone = 'UTC';
CREATE TEMP TABLE stg_event AS
WITH raw AS (
  SELECT * FROM read_parquet({events}, hive_partitioning = false)
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY received_at, log_offset) = 1
), parsed AS (  -- one parse per event: every path at once
  SELECT id, name, ts, received_at, source, payload ->> [
    '$.messageId', '$.type', '$.userId', '$.anonymousId', '$.previousId',
    '$.context.userAgentParsed.device_type', '$.context.userAgentParsed.browser', '$.context.userAgentParsed.os',
    '$.context.location.country', '$.context.locale', '$.context.page.url', '$.properties.url',
    '$.context.page.path', '$.properties.path', '$.context.page.referrer', '$.properties.referrer',
    '$.context.campaign.source', '$.context.campaign.medium', '$.context.campaign.name',
    '$.properties.product_id', '$.properties.order_id', '$.properties.promotion_id', '$.properties.price',
    '$.properties.quantity', '$.properties.revenue', '$.properties.total', '$.properties.currency',
    '$.properties'] AS f
  FROM raw
)
SELECT id AS event_id, nullif(f[1], '') AS message_id, nullif(f[2], '') AS event_type, name AS event_name,
       ts, received_at, CAST(ts AS DATE) AS event_date, nullif(f[3], '') AS user_id,
       nullif(f[4], '') AS anonymous_id, nullif(f[5], '') AS previous_id, nullif(f[6], '') AS device_type,
       nullif(f[7], '') AS browser, nullif(f[8], '') AS os,
       coalesce(nullif(f[9], ''), CASE WHEN length(nullif(f[10], '')) = 5 THEN upper(substr(f[10], 4, 2)) END)
         AS country,
       coalesce(nullif(f[11], ''), nullif(f[12], '')) AS page_url,
       coalesce(nullif(f[13], ''), nullif(f[14], '')) AS page_path,
       coalesce(nullif(f[15], ''), nullif(f[16], '')) AS referrer,
       nullif(f[17], '') AS utm_source, nullif(f[18], '') AS utm_medium, nullif(f[19], '') AS utm_campaign,
       nullif(f[20], '') AS product_id, nullif(f[21], '') AS order_id, nullif(f[22], '') AS promotion_id,
       TRY_CAST(f[23] AS DOUBLE) AS price, CAST(TRY_CAST(f[24] AS DOUBLE) AS BIGINT) AS quantity,
       coalesce(TRY_CAST(f[25] AS DOUBLE), TRY_CAST(f[26] AS DOUBLE)) AS revenue,
       nullif(f[27], '') AS currency, nullif(f[28], '') AS properties, source
FROM parsed;
COPY stg_event TO '{out}/stg_event.parquet' (FORMAT parquet, COMPRESSION zstd);

CREATE TEMP TABLE identity_map AS
WITH links AS (
  SELECT anonymous_id AS alias_id, user_id, ts, event_id FROM stg_event
  WHERE user_id IS NOT NULL AND anonymous_id IS NOT NULL
  UNION ALL
  SELECT previous_id, user_id, ts, event_id FROM stg_event
  WHERE event_type = 'alias' AND user_id IS NOT NULL AND previous_id IS NOT NULL
), firsts AS (
  SELECT alias_id, user_id, ts AS linked_at FROM links
  QUALIFY row_number() OVER (PARTITION BY alias_id ORDER BY ts, event_id) = 1
), user_aliases AS (
  SELECT previous_id AS alias_id, max(user_id) AS target FROM stg_event
  WHERE event_type = 'alias' AND user_id IS NOT NULL AND previous_id IS NOT NULL GROUP BY 1
)
SELECT f.alias_id AS anonymous_id, coalesce(u.target, f.user_id) AS user_id, f.linked_at
FROM firsts f LEFT JOIN user_aliases u ON f.user_id = u.alias_id;
COPY identity_map TO '{out}/identity_map.parquet' (FORMAT parquet, COMPRESSION zstd);

CREATE TEMP TABLE fact_event AS
WITH people AS (
  SELECT e.*, coalesce(e.user_id, i.user_id, 'anon:' || coalesce(e.anonymous_id, '')) AS person_id,
         coalesce(e.user_id, i.user_id) AS stitched_user_id, e.anonymous_id IS NOT NULL AS client
  FROM stg_event e LEFT JOIN identity_map i ON e.anonymous_id = i.anonymous_id
), flagged AS (
  SELECT *, CASE WHEN lag(ts) OVER w IS NULL OR ts > lag(ts) OVER w + INTERVAL 30 MINUTE THEN 1 ELSE 0 END AS new_session
  FROM people WINDOW w AS (PARTITION BY person_id, client ORDER BY ts, event_id)
), numbered AS (
  SELECT *, CASE WHEN client THEN person_id || '/' || CAST(sum(new_session) OVER (
      PARTITION BY person_id, client ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS VARCHAR) END AS session_id
  FROM flagged
)
SELECT * EXCLUDE (new_session, client),
       CASE WHEN session_id IS NOT NULL THEN row_number() OVER (PARTITION BY session_id ORDER BY ts, event_id) END
         AS event_in_session
FROM numbered;
COPY fact_event TO '{out}/fact_event.parquet' (FORMAT parquet, COMPRESSION zstd);

CREATE TEMP TABLE fact_session AS
WITH s AS (
  SELECT session_id, max(person_id) AS person_id, max(stitched_user_id) AS user_id, min(ts) AS started_at,
         max(ts) AS ended_at, count(*) AS events,
         count(*) FILTER (WHERE event_type IN ('page', 'screen')) AS pageviews,
         count(*) FILTER (WHERE event_name = 'Product Viewed') AS product_views,
         count(*) FILTER (WHERE event_name = 'Product Added') AS cart_adds,
         count(*) FILTER (WHERE event_name = 'Checkout Started') AS checkouts,
         count(*) FILTER (WHERE event_name = 'Order Completed') AS orders
  FROM fact_event WHERE session_id IS NOT NULL GROUP BY session_id
), f AS (
  SELECT session_id, anonymous_id, page_path AS landing_page, utm_source, utm_medium, utm_campaign,
         lower(nullif(regexp_extract(referrer, '^[A-Za-z]+://([^/?#:]+)', 1), '')) AS referrer_host,
         coalesce(device_type, 'unknown') AS device_type, browser, country
  FROM fact_event WHERE event_in_session = 1
)
SELECT s.*, f.* EXCLUDE (session_id, utm_source, utm_medium),
       CASE WHEN utm_source IS NOT NULL THEN utm_source ELSE coalesce(referrer_host, '(direct)') END AS source,
       CASE WHEN utm_source IS NOT NULL THEN coalesce(utm_medium, '(not set)')
            WHEN referrer_host IS NULL THEN '(none)'
            WHEN regexp_matches(referrer_host, 'google|bing|duckduckgo|yahoo|baidu|yandex|ecosia') THEN 'organic'
            WHEN regexp_matches(referrer_host, 'facebook|instagram|t\.co|twitter|x\.com|pinterest|tiktok|linkedin')
              THEN 'social'
            ELSE 'referral' END AS medium,
       CAST(started_at AS DATE) AS session_date,
       epoch(date_trunc('second', ended_at)) - epoch(date_trunc('second', started_at)) AS duration_seconds,
       s.events = 1 AS is_bounce
FROM s JOIN f USING (session_id);
COPY fact_session TO '{out}/fact_session.parquet' (FORMAT parquet, COMPRESSION zstd);

CREATE TEMP TABLE stg_order AS
SELECT *, json_extract_string(payload, '$.order_id') AS order_id FROM read_parquet({orders}, hive_partitioning = false)
QUALIFY row_number() OVER (PARTITION BY id ORDER BY received_at, log_offset) = 1;
CREATE TEMP TABLE latest_order AS
SELECT * FROM stg_order
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY received_at DESC, log_offset DESC, id DESC) = 1;

CREATE TEMP TABLE fact_order_item AS
WITH lines AS (
  SELECT order_id, ts AS placed_at, json_extract_string(payload, '$.customer_id') AS customer_id,
         json_extract_string(payload, '$.currency') AS currency,
         unnest(CAST(json_extract(payload, '$.items[*]') AS VARCHAR[])) AS item,
         generate_subscripts(CAST(json_extract(payload, '$.items[*]') AS VARCHAR[]), 1) AS line_no
  FROM latest_order
), typed AS (
  SELECT order_id, line_no, placed_at, CAST(placed_at AS DATE) AS order_date, customer_id,
         json_extract_string(item, '$.product_id') AS product_id,
         json_extract_string(item, '$.variant_id') AS variant_id, json_extract_string(item, '$.sku') AS sku,
         CAST(TRY_CAST(json_extract_string(item, '$.quantity') AS DOUBLE) AS BIGINT) AS quantity,
         TRY_CAST(json_extract_string(item, '$.unit_price') AS DOUBLE) AS unit_price,
         coalesce(TRY_CAST(json_extract_string(item, '$.discount') AS DOUBLE), 0) AS discount, currency
  FROM lines
)
SELECT t.*, quantity * unit_price - discount AS line_amount, fx.rate AS fx_rate,
       (quantity * unit_price - discount) * fx.rate AS line_amount_reporting
FROM typed t LEFT JOIN fx_rate fx ON fx.currency = t.currency AND fx.month = date_trunc('month', t.order_date);
COPY fact_order_item TO '{out}/fact_order_item.parquet' (FORMAT parquet, COMPRESSION zstd);

CREATE TEMP TABLE fact_order AS
WITH header AS (
  SELECT order_id, json_extract_string(payload, '$.customer_id') AS customer_id, ts AS placed_at,
         CAST(ts AS DATE) AS order_date, json_extract_string(payload, '$.status') AS status,
         json_extract_string(payload, '$.currency') AS currency, json_extract_string(payload, '$.country') AS country,
         json_extract_string(payload, '$.channel') AS channel,
         coalesce(TRY_CAST(json_extract_string(payload, '$.discount') AS DOUBLE), 0) AS discount,
         coalesce(TRY_CAST(json_extract_string(payload, '$.shipping') AS DOUBLE), 0) AS shipping,
         coalesce(TRY_CAST(json_extract_string(payload, '$.tax') AS DOUBLE), 0) AS tax,
         TRY_CAST(json_extract_string(payload, '$.total') AS DOUBLE) AS stated_total
  FROM latest_order
), lines AS (
  SELECT order_id, count(*) AS line_count, sum(greatest(quantity, 0)) AS units,
         sum(line_amount) AS items_amount FROM fact_order_item GROUP BY 1
), typed AS (
  SELECT h.* EXCLUDE (stated_total), coalesce(l.line_count, 0) AS line_count, coalesce(l.units, 0) AS units,
         coalesce(stated_total, coalesce(l.items_amount, 0) - discount + shipping + tax) AS total
  FROM header h LEFT JOIN lines l USING (order_id)
)
SELECT t.*, fx.rate AS fx_rate, t.total * fx.rate AS total_reporting, t.total > 0 AS is_sale,
       CASE WHEN t.total > 0 THEN t.total * fx.rate ELSE 0 END AS gross_reporting,
       CASE WHEN t.total > 0 AND status = 'cancelled' THEN t.total * fx.rate ELSE 0 END AS cancelled_reporting
FROM typed t LEFT JOIN fx_rate fx ON fx.currency = t.currency AND fx.month = date_trunc('month', t.order_date);
COPY fact_order TO '{out}/fact_order.parquet' (FORMAT parquet, COMPRESSION zstd);
