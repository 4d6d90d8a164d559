"""Engine registry: an engine URL's scheme picks the adapter. Heavy imports stay lazy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopsight.config import Settings, path_from_url
from shopsight.errors import ConfigError
from shopsight.logs import get_logger
from shopsight.ports import EventLog, ObjectStore

if TYPE_CHECKING:
    from shopsight.warehouse.engine import WarehouseEngine
    from shopsight.warehouse.publish import TableSink
    from shopsight.warehouse.store import PublishedVersion


def open_event_log(settings: Settings, *, read_only: bool = False) -> EventLog:
    """Open the event log named by ``settings.event_log_url`` (file:// embedded, redis:// Streams)."""
    url = settings.event_log_url
    if url.startswith("file://"):
        from shopsight.engines.filelog.client import FileEventLog

        return FileEventLog(
            url.removeprefix("file://"),
            group_commit_ms=settings.log_group_commit_ms,
            segment_bytes=settings.log_segment_bytes,
            read_only=read_only,
        )
    if url.startswith(("redis://", "rediss://")):
        from shopsight.engines.redis_streams.client import RedisStreamsEventLog

        return RedisStreamsEventLog(url, read_only=read_only)
    raise ConfigError(f"unsupported event log URL {url!r}: use file:// or redis://")


def open_object_store(url: str) -> ObjectStore:
    """Open the lake's object store (file:// embedded)."""
    if url.startswith("file://"):
        from shopsight.engines.localfs.client import LocalObjectStore

        return LocalObjectStore(url.removeprefix("file://"))
    raise ConfigError(f"unsupported lake URL {url!r}: use file://")


def open_warehouse_engine(settings: Settings, engine: str | None = None) -> WarehouseEngine:
    """The warehouse engine: ``engine`` ('duckdb' or 'spark') if given, else ``settings.warehouse_url``.

    ``duckdb://FILE`` is the embedded default; ``spark://local[N]`` runs PySpark in local mode and
    ``spark://HOST:PORT`` joins a Spark cluster.
    """
    url = settings.warehouse_url
    chosen = engine or url.split("://", 1)[0]
    if chosen == "duckdb":
        from shopsight.engines.duckdb.warehouse import DuckDBWarehouse

        return DuckDBWarehouse()
    if chosen == "spark":
        from shopsight.engines.spark.warehouse import SparkWarehouse

        master = url.removeprefix("spark://") if url.startswith("spark://") else "local[2]"
        if not master.startswith("local"):
            master = f"spark://{master}"
        return SparkWarehouse(master, scratch=settings.home.resolve() / "spark")
    raise ConfigError(f"unsupported warehouse engine {chosen!r}: use duckdb or spark")


def refresh_warehouse_views(settings: Settings, version: PublishedVersion) -> bool:
    """Point the BI views of the DuckDB file named by ``settings.warehouse_url`` at ``version``.

    A ``duckdb://FILE`` warehouse URL gets one view per published table over its Parquet files, so
    Metabase, Superset or a notebook can open FILE; other warehouse URLs have no such file. The version is
    already published when this runs, so a file another process holds open is a warning, not a failure:
    returns whether the views now show ``version``.
    """
    if not settings.warehouse_url.startswith("duckdb://"):
        return False
    from shopsight.engines.duckdb.bi import BIViewsUnavailable, refresh_bi_views

    try:
        refresh_bi_views(path_from_url(settings.warehouse_url), version)
    except BIViewsUnavailable as error:
        get_logger(__name__).warning("bi_views_not_refreshed", version=version.version, reason=str(error))
        return False
    return True


def open_table_sink(url: str, *, schema: str = "shopsight") -> TableSink:
    """Where ``shopsight publish --to URL`` loads tables (``postgresql://`` into ``schema``)."""
    if url.startswith(("postgresql://", "postgres://")):
        from shopsight.engines.postgres.client import PostgresTableSink, connect_url

        return PostgresTableSink(connect_url(url), schema=schema)
    raise ConfigError(f"unsupported publish URL {url!r}: use postgresql://")
