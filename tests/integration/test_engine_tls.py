"""Engine links over verified TLS (ASVS V12.3, V13.2.1), against real throw-away servers that speak TLS only.

A private CA signs the servers' certificates and the clients' certificates. PostgreSQL accepts TCP over TLS
only (``hostssl``) and logs the ShopSight roles in by client certificate (``cert``), so their URLs carry no
password; Redis listens on a TLS port only (``--port 0``) and demands a client certificate. With
``require_engine_tls`` on, the settings refuse any URL that does not ask for verified TLS against a named CA.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pyarrow as pa
import pytest
from psycopg import sql
from sqlalchemy import text

from shopsight.config import Settings, load_settings
from shopsight.engines import open_event_log, open_table_sink
from shopsight.engines.postgres.errors import PostgresUnavailable
from shopsight.engines.redis_streams.errors import RedisUnavailable
from shopsight.errors import ConfigError
from shopsight.metadata.db import open_metadata
from shopsight.security.engine_links import check_engine_url
from shopsight.testing.engine_servers import ServerTls, postgres_bin, tls_postgres, tls_redis
from shopsight.testing.tls import CertificateAuthority, issue_certificate, private_ca
from shopsight.warehouse.publish import TableLoad

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(postgres_bin() is None, reason="no PostgreSQL server binaries in /usr/lib/postgresql"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server on PATH"),
]
PUBLISHER, METADATA = "shopsight_publisher", "shopsight_metadata"


@dataclass(frozen=True)
class Pki:
    """The CA the servers' certificates come from, another CA, and one client certificate per role."""

    ca: CertificateAuthority
    other_ca: CertificateAuthority
    server: ServerTls
    clients: dict[str, tuple[Path, Path]]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = private_ca(folder)
    cert, key = issue_certificate(ca, folder, "engine-server")
    clients = {name: issue_certificate(ca, folder, name) for name in (PUBLISHER, METADATA, "collector")}
    return Pki(ca, private_ca(folder, "Other CA"), ServerTls(cert, key, ca.cert_path), clients)


@pytest.fixture(scope="module")
def pg_port(pki: Pki) -> Iterator[int]:
    """A TLS-only PostgreSQL: the two roles log in by certificate, nobody by password, nothing in clear."""
    hba = [f"hostssl all {PUBLISHER},{METADATA} 127.0.0.1/32 cert"]
    with tls_postgres(pki.server, hba) as server:
        with psycopg.connect(server.admin_url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE shop")
            for role in (PUBLISHER, METADATA):
                admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        with psycopg.connect(server.admin_url.replace("/postgres?", "/shop?"), autocommit=True) as shop:
            shop.execute(sql.SQL("CREATE SCHEMA bi AUTHORIZATION {}").format(sql.Identifier(PUBLISHER)))
            shop.execute(sql.SQL("CREATE SCHEMA {0} AUTHORIZATION {0}").format(sql.Identifier(METADATA)))
        yield server.port


@pytest.fixture(scope="module")
def redis_port(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with tls_redis(pki.server, tmp_path_factory.mktemp("redis")) as port:
        yield port


def pg_url(pki: Pki, port: int, role: str, *, host: str = "127.0.0.1", ca: Path | None = None) -> str:
    """Verified TLS against ``ca`` (default: the right one) with the role's client certificate."""
    cert, key = pki.clients[role]
    return (
        f"postgresql://{role}@{host}:{port}/shop?sslmode=verify-full&sslrootcert={ca or pki.ca.cert_path}"
        f"&sslcert={cert}&sslkey={key}"
    )


def redis_url(pki: Pki, port: int, *, host: str = "127.0.0.1", ca: Path | None = None) -> str:
    cert, key = pki.clients["collector"]
    return (
        f"rediss://{host}:{port}/0?ssl_ca_certs={ca or pki.ca.cert_path}&ssl_certfile={cert}"
        f"&ssl_keyfile={key}&stream=tls-test"
    )


def tls_settings(tmp_path: Path, **urls: str) -> Settings:
    return load_settings(home=tmp_path / "home", require_engine_tls=True, **urls)


def _tiny_table() -> TableLoad:
    table = pa.table({"order_id": ["o1", "o2"], "total": [12.5, 7.0]})
    return TableLoad("fact_order", table.schema, iter(table.to_batches()), "Orders.")


def _session_ssl(url: str) -> tuple[object, ...] | None:
    with psycopg.connect(url) as con:
        return con.execute(
            "SELECT ssl, version, client_dn, current_user FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()


def test_publish_logs_in_by_client_certificate_over_verified_tls(pki: Pki, pg_port: int) -> None:
    url = pg_url(pki, pg_port, PUBLISHER)
    assert urlsplit(url).password is None  # no static secret anywhere in the link
    check_engine_url("--to", url, require_tls=True)
    sink = open_table_sink(url, schema="bi")
    try:
        assert sink.replace_table(_tiny_table(), lambda _rows: None) == 2
    finally:
        sink.close()
    ssl, version, client_dn, user = _session_ssl(url) or ()
    assert ssl is True and version in ("TLSv1.3", "TLSv1.2")
    assert client_dn == f"/CN={PUBLISHER}" and user == PUBLISHER
    with psycopg.connect(url) as con:
        assert con.execute("SELECT count(*), sum(total) FROM bi.fact_order").fetchone() == (2, 19.5)


def test_metadata_store_and_event_log_run_over_verified_tls(
    pki: Pki, pg_port: int, redis_port: int, tmp_path: Path
) -> None:
    metadata_url = pg_url(pki, pg_port, METADATA)
    settings = tls_settings(tmp_path, metadata_url=metadata_url, event_log_url=redis_url(pki, redis_port))
    engine = open_metadata(settings.metadata_url)
    try:
        with engine.connect() as con:
            row = con.execute(text("SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
            assert tuple(row.one()) == (True, f"/CN={METADATA}")
            tables = con.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": METADATA}
            )
            assert tables.scalar_one() > 5  # the whole store, in the role's own schema
    finally:
        engine.dispose()
    log = open_event_log(settings)
    try:
        first = log.append([b"a", b"b"])[0]
        assert [record.payload for record in log.read(first, 10)] == [b"a", b"b"]
    finally:
        log.close()


def test_a_server_certificate_from_another_ca_is_refused(pki: Pki, pg_port: int, redis_port: int) -> None:
    other = pki.other_ca.cert_path
    with pytest.raises(PostgresUnavailable, match="certificate verify failed"):
        open_table_sink(pg_url(pki, pg_port, PUBLISHER, ca=other), schema="bi")
    with pytest.raises(RedisUnavailable, match="certificate verify failed"):
        open_event_log(load_settings(event_log_url=redis_url(pki, redis_port, ca=other)))


def test_a_server_certificate_for_another_host_name_is_refused(
    pki: Pki, pg_port: int, redis_port: int
) -> None:
    """The certificate names 127.0.0.1 only; reaching the same server as ``localhost`` must fail."""
    with pytest.raises(PostgresUnavailable, match='does not match host name "localhost"'):
        open_table_sink(pg_url(pki, pg_port, PUBLISHER, host="localhost"), schema="bi")
    with pytest.raises(RedisUnavailable, match="Hostname mismatch"):
        open_event_log(load_settings(event_log_url=redis_url(pki, redis_port, host="localhost")))


def test_plain_text_is_refused_by_the_settings_and_by_the_servers(
    pki: Pki, pg_port: int, redis_port: int, tmp_path: Path
) -> None:
    clear_pg = pg_url(pki, pg_port, PUBLISHER).replace("sslmode=verify-full", "sslmode=disable")
    with pytest.raises(
        ConfigError, match=r"^metadata_url \(postgresql://127\.0\.0\.1:\d+/shop\): .*verify-full"
    ):
        tls_settings(tmp_path, metadata_url=clear_pg)
    with pytest.raises(ConfigError, match=r"^event_log_url \(redis://127\.0\.0\.1:\d+/0\): .*rediss://"):
        tls_settings(tmp_path, event_log_url=f"redis://127.0.0.1:{redis_port}/0")
    with pytest.raises(PostgresUnavailable, match=r"no pg_hba\.conf entry .* no encryption"):
        open_table_sink(clear_pg, schema="bi")
    with pytest.raises(RedisUnavailable):
        open_event_log(load_settings(event_log_url=f"redis://127.0.0.1:{redis_port}/0"))


def test_without_its_client_certificate_no_role_gets_in(pki: Pki, pg_port: int, redis_port: int) -> None:
    """Certificate login is the only way in: the same verified-TLS URL without the certificate fails."""
    no_cert = pg_url(pki, pg_port, PUBLISHER).split("&sslcert=")[0]
    with pytest.raises(PostgresUnavailable, match="requires a valid client certificate"):
        open_table_sink(no_cert, schema="bi")
    with pytest.raises(RedisUnavailable):
        open_event_log(load_settings(event_log_url=redis_url(pki, redis_port).split("&ssl_certfile=")[0]))
