"""``docs/security/postgres-roles.sql`` on the machine's PostgreSQL (ASVS V13.2.2): each ShopSight account
does its job through our own code and is refused everything else.

The script runs through ``psql`` as an operator would run it, in a fresh database with role names of
this run (roles are cluster-wide); database and roles are dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql
from sqlalchemy import text

from shopsight.engines import open_table_sink
from shopsight.engines.postgres.errors import PostgresRefused
from shopsight.metadata.db import open_metadata
from shopsight.testing.engine_servers import postgres_bin
from shopsight.warehouse.publish import TableLoad

pytestmark = pytest.mark.integration
ADMIN_URL = os.environ.get("SHOPSIGHT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "security" / "postgres-roles.sql"
DENIED = psycopg.errors.InsufficientPrivilege


@dataclass(frozen=True)
class Accounts:
    """The database and the role names the script was run with."""

    database: str
    publisher: str
    metadata: str
    reader: str
    schema: str = "shopsight"

    def url(self, role: str) -> str:
        """``role`` logging in to the database (the machine's PostgreSQL trusts 127.0.0.1)."""
        return ADMIN_URL.replace("postgres@", f"{role}@", 1).rsplit("/", 1)[0] + "/" + self.database


def _psql() -> str:
    binaries = postgres_bin()
    found = shutil.which("psql") or (str(binaries / "psql") if binaries else None)
    if found is None:
        pytest.skip("no psql on this machine")
    return found


@pytest.fixture(scope="module")
def accounts() -> Iterator[Accounts]:
    tag = secrets.token_hex(4)
    made = Accounts(f"shopsight_lp_{tag}", f"lp_publisher_{tag}", f"lp_metadata_{tag}", f"lp_reader_{tag}")
    roles = (made.publisher, made.metadata, made.reader)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(made.database)))
    try:
        variables = {"database": made.database, "publisher": made.publisher, "publish_schema": made.schema,
                     "metadata_role": made.metadata, "reader": made.reader}  # fmt: skip
        options = [arg for name, value in variables.items() for arg in ("-v", f"{name}={value}")]
        admin_db = ADMIN_URL.rsplit("/", 1)[0] + "/" + made.database
        done = subprocess.run(
            [_psql(), admin_db, "-q", *options, "-f", str(SCRIPT)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        yield made
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(made.database))
            )
            for role in roles:
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _publish_orders(url: str, schema: str) -> int:
    """Our publish path (the PostgreSQL table sink) loading a three-row table into ``schema``."""
    table = pa.table({"order_id": ["o1", "o2", "o3"], "total": [10.0, 20.0, 12.5]})
    sink = open_table_sink(url, schema=schema)
    try:
        load = TableLoad("fact_order", table.schema, iter(table.to_batches()), "Orders.")
        return sink.replace_table(load, lambda _rows: None)
    finally:
        sink.close()


def _refused(url: str, statement: str) -> None:
    with psycopg.connect(url) as con, pytest.raises(DENIED):
        con.execute(sql.SQL(statement))


def test_the_publisher_replaces_tables_in_its_schema_and_nothing_else(accounts: Accounts) -> None:
    publisher = accounts.url(accounts.publisher)
    assert _publish_orders(publisher, accounts.schema) == 3
    assert _publish_orders(publisher, accounts.schema) == 3  # drops and swaps its own table
    with pytest.raises(PostgresRefused, match="permission denied for database"):
        _publish_orders(publisher, "elsewhere")
    for statement in (
        "CREATE TABLE public.spill (x int)",
        "CREATE SCHEMA elsewhere",
        f"DROP SCHEMA {accounts.schema} CASCADE",
        f"SELECT count(*) FROM {accounts.metadata}.users",
        "CREATE TEMPORARY TABLE scratch (x int)",
    ):
        _refused(publisher, statement)


def test_the_reader_only_reads_what_was_published(accounts: Accounts) -> None:
    _publish_orders(accounts.url(accounts.publisher), accounts.schema)
    reader = accounts.url(accounts.reader)
    with psycopg.connect(reader) as con:
        count = con.execute(
            sql.SQL("SELECT count(*) FROM {}.fact_order").format(sql.Identifier(accounts.schema))
        )
        assert count.fetchone() == (3,)
    for statement in (
        f"INSERT INTO {accounts.schema}.fact_order VALUES ('o4', 1.0)",
        f"DROP TABLE {accounts.schema}.fact_order",
        f"CREATE TABLE {accounts.schema}.mine (x int)",
    ):
        _refused(reader, statement)


def test_the_metadata_account_keeps_its_store_in_its_own_schema(accounts: Accounts) -> None:
    engine = open_metadata(accounts.url(accounts.metadata))
    try:
        with engine.connect() as con:
            owned = con.execute(text("SELECT schemaname FROM pg_tables WHERE tableowner = current_user"))
            schemas = owned.scalars().all()
            query = (
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = :me"
            )
            powers = con.execute(text(query), {"me": accounts.metadata})
            assert tuple(powers.one()) == (False, False, False, False)
    finally:
        engine.dispose()
    assert len(schemas) > 5 and set(schemas) == {accounts.metadata}
    metadata = accounts.url(accounts.metadata)
    for statement in (
        "CREATE TABLE public.spill (x int)",
        f"CREATE TABLE {accounts.schema}.spill (x int)",
        f"SELECT count(*) FROM {accounts.schema}.fact_order",
        "CREATE SCHEMA elsewhere",
        "CREATE ROLE intruder",
    ):
        _refused(metadata, statement)
