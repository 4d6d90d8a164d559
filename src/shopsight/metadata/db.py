"""SQLAlchemy Core access to the metadata store; the URL picks SQLite (default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url

# Every metadata table registers on this object, so one ``create_all`` makes the whole store.
METADATA = MetaData()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_metadata(url: str) -> Engine:
    """Open (and create if needed) the metadata store at ``url``."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":  # default to psycopg 3, the driver we ship
        url = str(parsed.set(drivername="postgresql+psycopg"))
    if parsed.drivername.startswith("sqlite") and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    if parsed.drivername.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    _import_table_modules()
    METADATA.create_all(engine)
    return engine


def _import_table_modules() -> None:
    """Import every module that declares tables so ``create_all`` sees them."""
    from shopsight.metadata import tables  # noqa: F401
    from shopsight.security.identity import tables as identity_tables  # noqa: F401
