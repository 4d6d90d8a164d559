"""The warehouse as a DuckDB file for BI tools: one view per published table over its Parquet files.

Metabase, Superset or a notebook open ``<home>/warehouse.duckdb`` (read-only) and see every table of the
current version. Views hold no data, so switching them to a new version is a few catalog writes in one
transaction. A BI tool holding the file open read-write blocks the refresh; the error says so.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from shopsight.errors import ShopSightError
from shopsight.warehouse.store import PublishedVersion

MARKER = "shopsight:"  # view comment prefix: the views this module owns (others in the file are left alone)


class BIViewsUnavailable(ShopSightError):
    """The BI DuckDB file could not be opened for writing (another process holds it)."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _owned_views(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' "
        "AND starts_with(coalesce(comment, ''), ?)",
        [MARKER],
    ).fetchall()
    return {name for (name,) in rows}


def _create_view(con: duckdb.DuckDBPyConnection, name: str, files: list[str], version: str) -> None:
    paths = ", ".join(_literal(path) for path in files)
    con.execute(f"CREATE OR REPLACE VIEW {_quote(name)} AS SELECT * FROM read_parquet([{paths}])")
    con.execute(f"COMMENT ON VIEW {_quote(name)} IS {_literal(f'{MARKER}{version}')}")


def refresh_bi_views(db_path: Path, version: PublishedVersion) -> list[str]:
    """Point one view per table of ``version`` at its Parquet files; drop views of tables now gone.

    Returns the names of the views created. All of it happens in one transaction, so a reader sees either
    the previous version or this one.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.IOException as error:
        raise BIViewsUnavailable(f"cannot open {db_path} for writing: {error}") from error
    try:
        con.execute("BEGIN TRANSACTION")
        tables = {name: table.files for name, table in version.tables.items() if table.files}
        for gone in _owned_views(con) - set(tables):
            con.execute(f"DROP VIEW IF EXISTS {_quote(gone)}")
        for name, files in tables.items():
            _create_view(con, name, files, version.version)
        con.execute("COMMIT")
    finally:
        con.close()
    return sorted(tables)
